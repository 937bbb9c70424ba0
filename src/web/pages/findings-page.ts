// Findings to triage (`/findings`): the scan findings recorded as `finding` events, newest first, with their
// triage (finding-triage.ts); actions: assign to a person, mark as a false positive (into the ignore list scans
// read), start the key's rotation (trigger `leak`). Each action is an event; a refused one too.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KeyledgerError } from '../../errors/keyledger-error.js';
import type { LoggedEvent } from '../../events/event-log.js';
import { canActOnKey, canReadKey, hasRole, type Principal } from '../../server/access.js';
import { FindingTriage, recordFalsePositive } from '../finding-triage.js';
import { html, query } from '../html.js';
import type { Snapshot } from '../registry-snapshot.js';
import { startRotation } from '../rotation-actions.js';
import { actorOf, csrfField, deny, sendPage, type WebContext } from '../web-context.js';

const PAGE = 50;

function ownershipOf(snapshot: Snapshot, keyId: string | null) {
  const entry = keyId ? snapshot.byId.get(keyId)?.entry : undefined;
  return { team: entry?.owner_team, individual: entry?.owner_individual };
}

/** Triage (assign, false positive) is the security role's, and the key's own team's. */
function canTriage(principal: Principal, ownership: { team?: string | undefined; individual?: string | undefined }) {
  return hasRole(principal, 'security') || canActOnKey(principal, ownership);
}

export function registerFindingsPage(instance: FastifyInstance, context: WebContext): void {
  const triage = new FindingTriage(context.db, context.server.clock);

  instance.get('/findings', async (request, reply) => {
    const principal = request.principal!;
    const params = request.query as { before?: string; notice?: string };
    const before = Number(params.before);
    const snapshot = await context.snapshot.get();
    // Read in pages of the log until a page's worth of readable findings is found (members see their teams').
    const shown: LoggedEvent[] = [];
    let cursor = Number.isInteger(before) && before > 0 ? before : undefined;
    let exhausted = false;
    for (let round = 0; round < 20 && shown.length < PAGE && !exhausted; round += 1) {
      const batch = await context.server.app.events.list({
        type: 'finding',
        order: 'desc',
        limit: 500,
        ...(cursor ? { beforeSeq: cursor } : {}),
      });
      exhausted = batch.length < 500;
      for (const event of batch) {
        cursor = event.seq;
        if (canReadKey(principal, ownershipOf(snapshot, event.keyId))) shown.push(event);
        if (shown.length === PAGE) break;
      }
    }
    const states = await triage.of(shown.map((event) => event.id));
    const body = html`
      ${
        shown.length === 0
          ? html`<p>No findings to triage.</p>`
          : html`<div class="table-wrap"><table class="responsive"><thead><tr><th scope="col">Key</th><th scope="col">Where</th><th scope="col">Rule</th><th scope="col">Found</th><th scope="col">Triage</th><th scope="col">Actions</th></tr></thead><tbody>${shown.map(
              (event) => {
                const state = states.get(event.id);
                const ownership = ownershipOf(snapshot, event.keyId);
                const path = `/findings/${encodeURIComponent(event.id)}`;
                return html`<tr id="finding-${event.id}">
                  <td data-label="Key">${event.keyId ? html`<a href="/keys/${encodeURIComponent(event.keyId)}"><code>${event.keyId}</code></a>` : '-'}</td>
                  <td data-label="Where"><code>${String(event.data.file ?? '?')}:${String(event.data.line ?? '?')}</code></td>
                  <td data-label="Rule">${String(event.data.rule ?? '?')}${event.data.live === true ? html` <span class="flag bad">live</span>` : ''}</td>
                  <td data-label="Found">${event.at}</td>
                  <td data-label="Triage" class="triage">${state?.status ?? 'open'}${state?.assignee ? ` → ${state.assignee}` : ''}</td>
                  <td data-label="Actions">${
                    canTriage(principal, ownership)
                      ? html`<form method="post" action="${path}/assign" class="inline">${csrfField(request)}<input type="hidden" name="seq" value="${event.seq}">
                          <label>Assignee <input type="email" name="assignee" required value="${state?.assignee ?? ''}"></label>
                          <button type="submit" class="secondary">Assign</button></form>
                        <form method="post" action="${path}/false-positive" class="inline">${csrfField(request)}<input type="hidden" name="seq" value="${event.seq}">
                          <button type="submit" class="secondary">False positive</button></form>
                        ${
                          event.keyId && canActOnKey(principal, ownership)
                            ? html`<form method="post" action="${path}/rotate" class="inline">${csrfField(request)}<input type="hidden" name="seq" value="${event.seq}">
                          <button type="submit">Rotate key</button></form>`
                            : ''
                        }`
                      : ''
                  }</td></tr>`;
              },
            )}</tbody></table></div>`
      }
      ${exhausted || shown.length < PAGE ? '' : html`<p><a href="/findings${query({ before: cursor })}" rel="next">Older findings</a></p>`}`;
    return sendPage(request, reply, {
      title: 'Findings',
      section: 'findings',
      body,
      ...(params.notice ? { notice: params.notice } : {}),
    });
  });

  const findFinding = async (request: FastifyRequest) => {
    const { id } = request.params as { id: string };
    // Each form names the event's seq, so the finding is read by position and checked by id.
    const seq = Number((request.body as { seq?: string } | undefined)?.seq);
    if (!Number.isInteger(seq) || seq < 1) return undefined;
    const [event] = await context.server.app.events.list({
      type: 'finding',
      order: 'asc',
      limit: 1,
      afterSeq: seq - 1,
    });
    return event?.seq === seq && event.id === id ? event : undefined;
  };

  const act = (
    action: 'assign' | 'false-positive' | 'rotate',
    work: (event: LoggedEvent, request: FastifyRequest, principal: Principal) => Promise<string>,
  ) =>
    instance.post(`/findings/:id/${action}`, async (request, reply) => {
      const principal = request.principal!;
      const event = await findFinding(request);
      if (!event) return reply.code(404).send('no such finding');
      const snapshot = await context.snapshot.get();
      const ownership = ownershipOf(snapshot, event.keyId);
      const allowed = action === 'rotate' ? canActOnKey(principal, ownership) : canTriage(principal, ownership);
      if (!allowed) return deny(context, request, reply, `finding-${action}`, event.keyId ?? undefined);
      let notice: string;
      try {
        notice = await work(event, request, principal);
      } catch (error) {
        notice = `Not done: ${error instanceof KeyledgerError ? error.message : 'unexpected error'}`;
      }
      return reply.redirect(`/findings${query({ notice })}#finding-${event.id}`, 303);
    });

  act('assign', async (event, request, principal) => {
    const assignee = String((request.body as { assignee?: string }).assignee ?? '')
      .trim()
      .toLowerCase();
    if (!/^[^@\s]+@[^@\s]+$/.test(assignee)) return 'Not assigned: give an email address.';
    await triage.set(event.id, { keyId: event.keyId, status: 'assigned', assignee, by: actorOf(principal) });
    await context.server.app.events.append({
      type: 'finding.assigned',
      actor: actorOf(principal),
      keyId: event.keyId,
      data: { finding: event.id, assignee },
    });
    return `Finding assigned to ${assignee}.`;
  });

  act('false-positive', async (event, _request, principal) => {
    const fingerprint = typeof event.data.fingerprint === 'string' ? event.data.fingerprint : undefined;
    if (!fingerprint) return 'Not marked: the finding has no fingerprint to ignore.';
    const file = await recordFalsePositive(
      context.server.app.dataDir,
      fingerprint,
      `false positive, marked by ${actorOf(principal)} on ${context.server.clock().toISOString()}`,
    );
    await triage.set(event.id, { keyId: event.keyId, status: 'false-positive', by: actorOf(principal) });
    await context.server.app.events.append({
      type: 'finding.false_positive',
      actor: actorOf(principal),
      keyId: event.keyId,
      data: { finding: event.id, fingerprint, ignore_file: file },
    });
    return 'Marked as a false positive; later scans ignore it.';
  });

  act('rotate', async (event, _request, principal) => {
    const started = await startRotation(context, principal, event.keyId!, 'leak');
    await triage.set(event.id, { keyId: event.keyId, status: 'rotating', by: actorOf(principal) });
    return `Rotation ${started.rotationId} ${started.created ? 'started' : 'already under way'} for ${event.keyId}.`;
  });
}
