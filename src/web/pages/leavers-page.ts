// Leavers and their offboarding progress (`/leavers`, security role): data from leavers-data.ts.
import type { FastifyInstance } from 'fastify';
import { hasRole } from '../../server/access.js';
import { html } from '../html.js';
import { leaversWithProgress } from '../leavers-data.js';
import { deny, sendPage, type WebContext } from '../web-context.js';

export function registerLeaversPage(instance: FastifyInstance, context: WebContext): void {
  instance.get('/leavers', async (request, reply) => {
    if (!hasRole(request.principal!, 'security')) return deny(context, request, reply, 'view-leavers');
    const leavers = await leaversWithProgress(
      context.server.app,
      await context.snapshot.get(),
      context.rotation().journal,
    );
    const body = html`
      <p>${leavers.length} people have left; ${leavers.filter((l) => l.liveKeys.length > 0).length} still own live keys.</p>
      <div class="table-wrap"><table class="responsive"><thead><tr><th scope="col">Person</th><th scope="col">Team</th><th scope="col">Left</th><th scope="col">Live keys</th><th scope="col">Rotating</th><th scope="col">Closed</th><th scope="col">Progress</th></tr></thead><tbody>${leavers.map(
        (leaver) => {
          const total = leaver.liveKeys.length + leaver.closedKeys;
          const done = total === 0 ? 100 : Math.round((100 * leaver.closedKeys) / total);
          return html`<tr class="leaver">
            <td data-label="Person">${leaver.name ? `${leaver.name} ` : ''}<a href="/?q=${encodeURIComponent(leaver.email)}">${leaver.email}</a></td>
            <td data-label="Team">${leaver.team ?? '-'}</td><td data-label="Left">${leaver.leftAt ?? '-'}</td>
            <td data-label="Live keys">${leaver.liveKeys.length}</td><td data-label="Rotating">${leaver.rotating}</td><td data-label="Closed">${leaver.closedKeys}</td>
            <td data-label="Progress"><progress max="100" value="${done}" aria-label="Offboarding of ${leaver.email}">${done}%</progress> ${done}%</td></tr>`;
        },
      )}</tbody></table></div>`;
    return sendPage(request, reply, { title: 'Leavers', section: 'leavers', body });
  });
}
