// A key's page (`/keys/:id`): the registry entry, its fingerprint, rotation history (the journal), consumers,
// usage from ingested audit logs (audit_usage), findings (the audit's classes, audit-log anomalies and scan
// findings from the event log) and recent events; and the "rotate now" action for those who may act on it.
import type { FastifyInstance } from 'fastify';
import { AuditUsageStore } from '../../audit/audit-usage-store.js';
import { AUDIT_FINDING_ACTIONS } from '../../audit/quarterly-audit.js';
import { KeyledgerError } from '../../errors/keyledger-error.js';
import { entryFacts } from '../../registry/registry-query.js';
import { canActOnKey, canReadKey } from '../../server/access.js';
import { html } from '../html.js';
import { startRotation } from '../rotation-actions.js';
import { csrfField, deny, sendPage, type WebContext } from '../web-context.js';

export function registerKeyPage(instance: FastifyInstance, context: WebContext): void {
  instance.get('/keys/:id', async (request, reply) => {
    const principal = request.principal!;
    const { id } = request.params as { id: string };
    const notice = (request.query as { notice?: string }).notice;
    const snapshot = await context.snapshot.get();
    // The entry itself is read fresh (one file): the snapshot may be a load behind a rotation just finished.
    const loaded = (await context.server.app.writer.read(id)) ?? snapshot.byId.get(id);
    if (!loaded)
      return sendPage(
        request,
        reply,
        { title: 'No such key', body: html`<p>No registry entry named <code>${id}</code>.</p>` },
        404,
      );
    const { entry } = loaded;
    const ownership = { team: entry.owner_team, individual: entry.owner_individual };
    if (!canReadKey(principal, ownership)) return deny(context, request, reply, 'read-key', id);
    const { app } = context.server;
    const facts = entryFacts(entry, context.server.clock());
    const usageStore = new AuditUsageStore(app.operational.db);
    const [rotations, usage, anomalies, findings, events] = await Promise.all([
      context.rotation().journal.list({ keyId: id, limit: 50 }),
      usageStore.usageOf(id),
      usageStore.anomaliesOf({ keyId: id }),
      app.events.list({ keyId: id, type: 'finding', order: 'desc', limit: 50 }),
      app.events.list({ keyId: id, order: 'desc', limit: 30 }),
    ]);
    const classes = [...(snapshot.classes.get(id) ?? [])];
    const open = rotations.find((row) => !['done', 'rolled-back', 'failed'].includes(row.state));
    const field = (label: string, value: unknown) =>
      value === undefined || value === null || value === '' ? '' : html`<dt>${label}</dt><dd>${String(value)}</dd>`;
    const body = html`
      <dl class="entry">
        ${field('Key id', entry.key_id)}${field('Status', entry.status)}${field('Purpose', entry.purpose ?? entry.description)}
        ${field('Owning team', entry.owner_team)}${field('Owner', entry.owner_individual)}
        ${field('Provider', entry.scope?.provider)}${field('Account', entry.scope?.account_id)}
        ${field('Permissions', entry.scope?.permissions?.join(', '))}${field('Justification', entry.justification)}
        ${field('Provider key id', entry.provider_key_id)}
        <dt>Fingerprint</dt><dd><code>${entry.fingerprint ?? 'none recorded'}</code></dd>
        ${field('Created', entry.created_at)}${field('Last rotated', entry.last_rotated)}${field('Expires', entry.expiration)}
        ${field('Rotation due', facts.rotation_due ? `${facts.rotation_due.slice(0, 10)}${facts.rotation_overdue ? ' (overdue)' : ''}` : undefined)}
        ${field('Stored at', entry.storage ? `${entry.storage.store ?? 'vault'}:${entry.storage.path ?? entry.storage.vault_path}` : undefined)}
        ${field('Registry file', loaded.file)}
      </dl>
      ${
        canActOnKey(principal, ownership) && (entry.status === 'active' || entry.status === 'rotating')
          ? open
            ? html`<p>Rotation <code>${open.rotation_id}</code> is under way (${open.state}).</p>`
            : html`<form method="post" action="/keys/${encodeURIComponent(id)}/rotate" class="inline">
                ${csrfField(request)}<button type="submit">Rotate now</button></form>`
          : ''
      }
      <h2>Rotation history</h2>
      ${
        rotations.length === 0
          ? html`<p>No rotation recorded.</p>`
          : html`<div class="table-wrap"><table class="responsive"><thead><tr><th scope="col">Rotation</th><th scope="col">Trigger</th><th scope="col">State</th><th scope="col">Started</th><th scope="col">Updated</th><th scope="col">Failure</th></tr></thead><tbody>${rotations.map(
              (row) =>
                html`<tr><td data-label="Rotation"><code>${row.rotation_id}</code></td><td data-label="Trigger">${row.trigger}</td><td data-label="State" class="rotation-state">${row.state}</td><td data-label="Started">${row.created_at}</td><td data-label="Updated">${row.updated_at}</td><td data-label="Failure">${row.failure ?? row.rollback_reason ?? ''}</td></tr>`,
            )}</tbody></table></div>`
      }
      <h2>Consumers</h2>
      ${
        entry.consumed_by?.length
          ? html`<ul>${entry.consumed_by.map(
              (consumer) =>
                html`<li>${
                  typeof consumer === 'string'
                    ? consumer
                    : Object.entries(consumer)
                        .filter(([name]) => name !== 'probe')
                        .map(([name, value]) => `${name}: ${String(value)}`)
                        .join(', ')
                }</li>`,
            )}</ul>`
          : html`<p>No consumers declared.</p>`
      }
      <h2>Usage (from audit logs)</h2>
      ${
        usage.length === 0
          ? html`<p>No use seen in the ingested audit logs.</p>`
          : html`<div class="table-wrap"><table class="responsive"><thead><tr><th scope="col">Day</th><th scope="col">Source</th><th scope="col">Principal</th><th scope="col">Outcome</th><th scope="col">Calls</th></tr></thead><tbody>${usage
              .slice(0, 60)
              .map(
                (row) =>
                  html`<tr><td data-label="Day">${row.day}</td><td data-label="Source">${row.source || '-'}</td><td data-label="Principal">${row.principal}</td><td data-label="Outcome">${row.outcome}</td><td data-label="Calls">${Number(row.count)}</td></tr>`,
              )}</tbody></table></div>`
      }
      <h2>Findings</h2>
      ${classes.length === 0 && anomalies.length === 0 && findings.length === 0 ? html`<p>None.</p>` : ''}
      <ul>
        ${classes.map((cls) => html`<li><strong>${cls}</strong>: ${AUDIT_FINDING_ACTIONS[cls]}</li>`)}
        ${anomalies.map((row) => html`<li><strong>${row.kind}</strong> from ${row.source || '-'}: ${row.detail} (${Number(row.count)}×, last ${row.last_at})</li>`)}
        ${findings.map((event) => html`<li><strong>leak</strong> in <code>${String(event.data.file ?? '?')}:${String(event.data.line ?? '?')}</code> (rule ${String(event.data.rule ?? '?')}, ${event.at}) — <a href="/findings#finding-${event.id}">triage</a></li>`)}
      </ul>
      <h2>Recent events</h2>
      <ul>${events.map((event) => html`<li>${event.at} <strong>${event.type}</strong> by ${event.actor}</li>`)}</ul>`;
    return sendPage(request, reply, {
      title: `Key ${entry.key_id}`,
      section: 'inventory',
      body,
      ...(notice ? { notice } : {}),
    });
  });

  instance.post('/keys/:id/rotate', async (request, reply) => {
    const principal = request.principal!;
    const { id } = request.params as { id: string };
    const loaded = await context.server.app.writer.read(id);
    if (!loaded) return reply.code(404).send('no such key');
    if (!canActOnKey(principal, { team: loaded.entry.owner_team, individual: loaded.entry.owner_individual }))
      return deny(context, request, reply, 'rotate-key', id);
    let notice: string;
    try {
      const started = await startRotation(context, principal, id, 'manual');
      notice = started.created
        ? `Rotation ${started.rotationId} started.`
        : `Rotation ${started.rotationId} was already under way.`;
    } catch (error) {
      notice = `Rotation not started: ${error instanceof KeyledgerError ? error.message : 'unexpected error'}`;
    }
    return reply.redirect(`/keys/${encodeURIComponent(id)}?notice=${encodeURIComponent(notice)}`, 303);
  });
}
