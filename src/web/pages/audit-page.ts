// The quarterly audit (`/audit`, security role): the headline counts, the charts the audit report draws
// (src/audit/audit-report-render.ts barChart), findings by class, and the full HTML report at /audit/report.html.
import type { FastifyInstance } from 'fastify';
import { barChart, renderAuditReport } from '../../audit/audit-report-render.js';
import { AUDIT_FINDING_ACTIONS, AUDIT_FINDING_CLASSES } from '../../audit/quarterly-audit.js';
import { hasRole } from '../../server/access.js';
import { html, raw } from '../html.js';
import { deny, sendPage, type WebContext } from '../web-context.js';

export function registerAuditPage(instance: FastifyInstance, context: WebContext): void {
  instance.get('/audit', async (request, reply) => {
    if (!hasRole(request.principal!, 'security')) return deny(context, request, reply, 'view-audit');
    const { audit } = await context.snapshot.get();
    const h = audit.headline;
    const body = html`
      <p>As of ${audit.asOf.slice(0, 10)} · <a href="/audit/report.html">full report (HTML)</a></p>
      <ul class="cards" aria-label="Audit headline">
        <li><strong>${h.activeKeys}</strong>active keys</li><li><strong>${h.noClearOwner}</strong>without a clear owner</li>
        <li><strong>${h.ownerLeft}</strong>owned by people who left</li><li><strong>${h.adminScope}</strong>with admin or broad scope</li>
        <li><strong>${h.unregistered}</strong>in use without an entry</li>
      </ul>
      ${raw(
        barChart(
          'Active keys by age',
          Object.entries(audit.ageBuckets).map(([label, value]) => ({ label, value })),
        ),
      )}
      ${raw(
        barChart(
          'Findings by class',
          AUDIT_FINDING_CLASSES.filter((cls) => audit.byClass[cls] > 0).map((cls) => ({
            label: cls,
            value: audit.byClass[cls],
          })),
        ),
      )}
      ${raw(
        barChart(
          'Active keys by owning team',
          Object.entries(audit.keysByTeam)
            .sort((a, b) => b[1] - a[1])
            .slice(0, 25)
            .map(([label, value]) => ({ label, value })),
        ),
      )}
      <h2>What to do</h2>
      <div class="table-wrap"><table><thead><tr><th scope="col">Class</th><th scope="col">Findings</th><th scope="col">Action</th></tr></thead><tbody>${AUDIT_FINDING_CLASSES.filter(
        (cls) => audit.byClass[cls] > 0,
      ).map(
        (cls) =>
          html`<tr><td><a href="/?flag=${cls}">${cls}</a></td><td>${audit.byClass[cls]}</td><td>${AUDIT_FINDING_ACTIONS[cls]}</td></tr>`,
      )}</tbody></table></div>`;
    return sendPage(request, reply, { title: 'Quarterly audit', section: 'audit', body });
  });

  instance.get('/audit/report.html', async (request, reply) => {
    if (!hasRole(request.principal!, 'security')) return deny(context, request, reply, 'view-audit');
    const { audit } = await context.snapshot.get();
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(renderAuditReport(audit, 'html'));
  });
}
