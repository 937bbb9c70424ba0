// Rotations in flight and failed (`/rotations`), from the rotation journal (src/lifecycle/rotation/rotation-journal.ts),
// limited to the keys the principal may read.
import type { FastifyInstance } from 'fastify';
import type { RotationRow } from '../../lifecycle/rotation/rotation-journal.js';
import { ROTATION_STATES, TERMINAL_STATES } from '../../lifecycle/rotation/rotation-states.js';
import { canReadKey } from '../../server/access.js';
import { html } from '../html.js';
import { sendPage, type WebContext } from '../web-context.js';

export function registerRotationsPage(instance: FastifyInstance, context: WebContext): void {
  instance.get('/rotations', async (request, reply) => {
    const principal = request.principal!;
    const snapshot = await context.snapshot.get();
    const { journal } = context.rotation();
    const inFlight = ROTATION_STATES.filter((state) => !TERMINAL_STATES.has(state));
    const [running, failed, recent] = await Promise.all([
      journal.list({ states: [...inFlight], limit: 500 }),
      journal.list({ states: ['failed', 'rolled-back'], limit: 200 }),
      journal.list({ states: ['done'], limit: 50 }),
    ]);
    const readable = (row: RotationRow) => {
      const entry = snapshot.byId.get(row.key_id)?.entry;
      return canReadKey(principal, { team: entry?.owner_team, individual: entry?.owner_individual });
    };
    const table = (rows: RotationRow[], caption: string, empty: string) =>
      rows.length === 0
        ? html`<p>${empty}</p>`
        : html`<div class="table-wrap"><table class="responsive"><caption class="skip">${caption}</caption><thead><tr><th scope="col">Key</th><th scope="col">Trigger</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Since</th><th scope="col">Why</th></tr></thead><tbody>${rows.map(
            (row) =>
              html`<tr><td data-label="Key"><a href="/keys/${encodeURIComponent(row.key_id)}"><code>${row.key_id}</code></a></td><td data-label="Trigger">${row.trigger}</td><td data-label="State">${row.state}</td><td data-label="Attempts">${Number(row.attempts)}</td><td data-label="Since">${row.state_entered_at}</td><td data-label="Why">${row.failure ?? row.rollback_reason ?? ''}</td></tr>`,
          )}</tbody></table></div>`;
    const body = html`
      <h2>In flight</h2>${table(running.filter(readable), 'Rotations in flight', 'No rotation is under way.')}
      <h2>Failed or rolled back</h2>${table(failed.filter(readable), 'Failed rotations', 'No failed rotation.')}
      <h2>Recently done</h2>${table(recent.filter(readable), 'Finished rotations', 'None yet.')}`;
    return sendPage(request, reply, { title: 'Rotations', section: 'rotations', body });
  });
}
