// Self-service key requests (`/requests`): the form (checked against the policy as `issue` checks it, nothing kept
// when it fails), the principal's requests, and for the security role the requests waiting for approval with
// their justification. Approval issues the key (key-requests.ts); a person cannot approve their own request.
import type { FastifyInstance } from 'fastify';
import { KeyledgerError } from '../../errors/keyledger-error.js';
import { canActOnKey, canApproveRequest, hasRole } from '../../server/access.js';
import { html, query } from '../html.js';
import { inputOf, type KeyRequestInput, type KeyRequestRow, KeyRequests } from '../key-requests.js';
import { actorOf, csrfField, deny, sendPage, type WebContext } from '../web-context.js';

type Form = Record<string, string | undefined>;

export function registerRequestsPage(instance: FastifyInstance, context: WebContext): void {
  const requests = new KeyRequests(context.db, context.server.app, context.server.clock);

  const teamsFor = async (principal: NonNullable<import('fastify').FastifyRequest['principal']>) => {
    if (hasRole(principal, 'admin')) {
      const snapshot = await context.snapshot.get();
      const teams = new Set(context.server.app.workspace.people?.teams() ?? []);
      for (const { entry } of snapshot.entries) if (entry.owner_team) teams.add(entry.owner_team);
      return [...teams].sort();
    }
    return [...principal.teams].sort();
  };

  const render = async (
    request: import('fastify').FastifyRequest,
    reply: import('fastify').FastifyReply,
    extra: { error?: string; form?: Form; notice?: string } = {},
    status = 200,
  ) => {
    const principal = request.principal!;
    const me = actorOf(principal);
    const all = await requests.list({ limit: 500 });
    const mine = all.filter(
      (row) => row.requester === me || (principal.roles.includes('member') && principal.teams.includes(row.team)),
    );
    const pending = canApproveRequest(principal) ? all.filter((row) => row.status === 'pending') : [];
    const teams = await teamsFor(principal);
    const providers = context.server.app.configuredProviders();
    const form = extra.form ?? {};
    const row = (r: KeyRequestRow) =>
      html`<tr><td data-label="Requested">${r.created_at.slice(0, 16)}</td><td data-label="By">${r.requester}</td><td data-label="Team">${r.team}</td><td data-label="Provider">${r.provider}</td><td data-label="Permissions">${inputOf(r).permissions.join(', ')}</td><td data-label="Status" class="request-status">${r.status}${r.key_id ? html` — <a href="/keys/${encodeURIComponent(r.key_id)}"><code>${r.key_id}</code></a>` : ''}${r.failure ? ` (${r.failure})` : ''}</td></tr>`;
    const head = html`<thead><tr><th scope="col">Requested</th><th scope="col">By</th><th scope="col">Team</th><th scope="col">Provider</th><th scope="col">Permissions</th><th scope="col">Status</th></tr></thead>`;
    const body = html`
      ${extra.error ? html`<p class="error" role="alert">${extra.error}</p>` : ''}
      <h2>Request a key</h2>
      ${
        teams.length === 0
          ? html`<p>You belong to no team, so there is no team to request a key for.</p>`
          : html`<form method="post" action="/requests" class="stack">${csrfField(request)}
        <label>Team <select name="team" required>${teams.map((t) => html`<option${form.team === t ? html` selected` : ''}>${t}</option>`)}</select></label>
        <label>Provider <select name="provider" required>${providers.map((p) => html`<option${form.provider === p ? html` selected` : ''}>${p}</option>`)}</select></label>
        <label>Purpose <input name="purpose" required maxlength="200" value="${form.purpose ?? ''}"></label>
        <label>Permissions (comma-separated) <input name="permissions" value="${form.permissions ?? ''}" placeholder="charges:write, customers:read"></label>
        <label>Account (optional) <input name="account" value="${form.account ?? ''}"></label>
        <label>Lifetime in days (optional) <input name="expires" inputmode="numeric" pattern="[0-9]*" value="${form.expires ?? ''}"></label>
        <label>Justification (needed for broad permissions) <textarea name="justification" rows="3">${form.justification ?? ''}</textarea></label>
        <div><button type="submit">Submit request</button></div>
      </form>`
      }
      ${
        canApproveRequest(principal)
          ? html`<h2>Waiting for approval</h2>${
              pending.length === 0
                ? html`<p>Nothing waits for approval.</p>`
                : pending.map(
                    (r) => html`<section class="pending" aria-label="Request by ${r.requester}">
                  <p><strong>${r.requester}</strong> (${r.team}) asks for a <strong>${r.provider}</strong> key: ${r.purpose}.</p>
                  <p>Permissions: <code>${inputOf(r).permissions.join(', ')}</code></p>
                  <p>Justification: ${r.justification ?? '(none)'}</p>
                  ${
                    r.requester === actorOf(principal)
                      ? html`<p>Your own request: another member of the security role approves it.</p>`
                      : html`<form method="post" action="/requests/${r.request_id}/approve" class="inline">${csrfField(request)}<button type="submit">Approve and issue</button></form>
                  <form method="post" action="/requests/${r.request_id}/reject" class="inline">${csrfField(request)}<label>Reason <input name="note" required></label><button type="submit" class="danger">Reject</button></form>`
                  }</section>`,
                  )
            }`
          : ''
      }
      <h2>Your and your teams' requests</h2>
      ${mine.length === 0 ? html`<p>None yet.</p>` : html`<div class="table-wrap"><table class="responsive">${head}<tbody>${mine.map(row)}</tbody></table></div>`}`;
    return sendPage(
      request,
      reply,
      { title: 'Key requests', section: 'requests', body, ...(extra.notice ? { notice: extra.notice } : {}) },
      status,
    );
  };

  instance.get('/requests', (request, reply) =>
    render(request, reply, { ...((request.query as Form).notice ? { notice: (request.query as Form).notice! } : {}) }),
  );

  instance.post('/requests', async (request, reply) => {
    const principal = request.principal!;
    const form = request.body as Form;
    const team = (form.team ?? '').trim();
    if (!canActOnKey(principal, { team })) return deny(context, request, reply, 'request-key-for-team');
    if (!principal.email)
      return render(request, reply, { error: 'Requests need a signed-in person with an email.', form }, 400);
    const expires = form.expires?.trim() ? Number(form.expires) : undefined;
    if (expires !== undefined && (!Number.isInteger(expires) || expires < 1))
      return render(request, reply, { error: 'Lifetime must be a whole number of days.', form }, 400);
    const input: KeyRequestInput = {
      requester: principal.email,
      team,
      provider: (form.provider ?? '').trim(),
      purpose: (form.purpose ?? '').trim(),
      permissions: (form.permissions ?? '')
        .split(',')
        .map((permission) => permission.trim())
        .filter(Boolean),
      justification: form.justification?.trim() || undefined,
      account: form.account?.trim() || undefined,
      expiresInDays: expires,
    };
    let broad: string[];
    try {
      broad = requests.check(input).broad;
    } catch (error) {
      if (error instanceof KeyledgerError) return render(request, reply, { error: error.message, form }, 400);
      throw error;
    }
    const actor = actorOf(principal);
    const row = await requests.create(input, broad.length > 0 ? 'pending' : 'approved');
    await context.server.app.events.append({
      type: 'key_request.created',
      actor,
      data: { request: row.request_id, team, provider: input.provider, broad, waits_for_approval: broad.length > 0 },
    });
    if (broad.length > 0)
      return reply.redirect(
        `/requests${query({ notice: `Request sent: ${broad.join(', ')} is broad, so the security role approves it first.` })}`,
        303,
      );
    const issued = await requests.issue(row, actor);
    context.snapshot.invalidate();
    return reply.redirect(
      `/requests${query({ notice: issued.status === 'issued' ? `Key ${issued.key_id} issued; its secret is in the store named on its page.` : `Issuance failed: ${issued.failure}` })}`,
      303,
    );
  });

  instance.post('/requests/:id/:decision', async (request, reply) => {
    const principal = request.principal!;
    const { id, decision } = request.params as { id: string; decision: string };
    if (decision !== 'approve' && decision !== 'reject') return reply.code(404).send('no such action');
    if (!canApproveRequest(principal)) return deny(context, request, reply, `request-${decision}`);
    const row = await requests.get(id);
    if (row?.status !== 'pending')
      return reply.redirect(`/requests${query({ notice: 'That request is no longer waiting.' })}`, 303);
    const actor = actorOf(principal);
    if (row.requester === actor) return deny(context, request, reply, 'approve-own-request');
    const note = (request.body as Form).note?.trim() || undefined;
    if (!(await requests.decide(id, decision === 'approve' ? 'approved' : 'rejected', actor, note)))
      return reply.redirect(`/requests${query({ notice: 'Someone else decided that request first.' })}`, 303);
    await context.server.app.events.append({
      type: decision === 'approve' ? 'key_request.approved' : 'key_request.rejected',
      actor,
      data: { request: id, requester: row.requester, team: row.team, ...(note ? { note } : {}) },
    });
    if (decision === 'reject') return reply.redirect(`/requests${query({ notice: 'Request rejected.' })}`, 303);
    const issued = await requests.issue({ ...row, status: 'approved' }, actor);
    context.snapshot.invalidate();
    return reply.redirect(
      `/requests${query({ notice: issued.status === 'issued' ? `Approved: key ${issued.key_id} issued.` : `Approved, but issuance failed: ${issued.failure}` })}`,
      303,
    );
  });
}
