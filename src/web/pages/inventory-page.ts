// The inventory (`/`): the headline counts (active, no clear owner, owner left, admin scope) over the keys the
// principal may read, filters (text, team, provider, status, finding) and one server-side page of 50.
import type { FastifyInstance } from 'fastify';
import { AUDIT_FINDING_CLASSES } from '../../audit/quarterly-audit.js';
import { KEY_STATUSES } from '../../registry/key-entry-schema.js';
import { html, query } from '../html.js';
import { INVENTORY_FLAGS, parseInventoryFilter, queryInventory } from '../inventory-query.js';
import { sendPage, type WebContext } from '../web-context.js';

export function registerInventoryPage(instance: FastifyInstance, context: WebContext): void {
  instance.get('/', async (request, reply) => {
    const principal = request.principal!;
    const filter = parseInventoryFilter(request.query as Record<string, unknown>);
    const snapshot = await context.snapshot.get();
    const result = queryInventory(snapshot, principal, filter, context.server.clock());
    const keep = {
      q: filter.q,
      team: filter.team,
      provider: filter.provider,
      status: filter.status,
      flag: filter.flag,
    };
    const card = (label: string, value: number, flag?: string) =>
      html`<li><a href="/${query(flag ? { flag } : { status: 'active' })}"><strong>${value.toLocaleString('en')}</strong>${label}</a></li>`;
    const option = (value: string, label: string, selected: string | undefined) =>
      html`<option value="${value}"${selected === value ? html` selected` : ''}>${label}</option>`;
    const body = html`
      <ul class="cards" aria-label="Headline counts">
        ${card('active keys', result.headline.active)}
        ${card('without a clear owner', result.headline.noClearOwner, 'no-clear-owner')}
        ${card('owned by people who left', result.headline.ownerLeft, 'owner-left')}
        ${card('with admin or broad scope', result.headline.adminScope, 'broad-scope')}
      </ul>
      <form class="filters" method="get" action="/" role="search" aria-label="Filter keys">
        <label>Search <input type="search" name="q" value="${filter.q ?? ''}" data-filter placeholder="key id, purpose, owner"></label>
        <label>Team <select name="team"><option value="">any</option>${result.teams.map((t) => option(t, t, filter.team))}</select></label>
        <label>Provider <select name="provider"><option value="">any</option>${result.providers.map((p) => option(p, p, filter.provider))}</select></label>
        <label>Status <select name="status"><option value="">any</option>${KEY_STATUSES.map((s) => option(s, s, filter.status))}</select></label>
        <label>Finding <select name="flag"><option value="">any</option>${AUDIT_FINDING_CLASSES.map((cls) => option(cls, INVENTORY_FLAGS[cls] ?? cls, filter.flag))}</select></label>
        <div><button type="submit">Filter</button> <a href="/">Clear</a></div>
      </form>
      <p id="count" role="status">${result.matched.toLocaleString('en')} of ${result.visible.toLocaleString('en')} keys match · page ${result.page} of ${result.pages}</p>
      <div class="table-wrap"><table class="responsive">
        <caption class="skip">Keys, page ${result.page}</caption>
        <thead><tr><th scope="col">Key</th><th scope="col">Provider</th><th scope="col">Team</th><th scope="col">Owner</th><th scope="col">Status</th><th scope="col">Rotation due</th><th scope="col">Findings</th></tr></thead>
        <tbody>${result.rows.map(
          (row) => html`<tr>
            <td data-label="Key"><a href="/keys/${encodeURIComponent(row.entry.key_id)}"><code>${row.entry.key_id}</code></a></td>
            <td data-label="Provider">${row.entry.scope?.provider ?? '-'}</td>
            <td data-label="Team">${row.entry.owner_team ?? '-'}</td>
            <td data-label="Owner">${row.entry.owner_individual ?? '-'}</td>
            <td data-label="Status">${row.entry.status}</td>
            <td data-label="Rotation due">${row.rotationDue ? row.rotationDue.slice(0, 10) : '-'}${row.overdue ? html` <span class="flag bad">overdue</span>` : ''}</td>
            <td data-label="Findings">${row.flags.map((flag) => html`<span class="flag">${INVENTORY_FLAGS[flag] ?? flag}</span>`)}</td>
          </tr>`,
        )}</tbody>
      </table></div>
      <nav class="pager" aria-label="Pages">
        ${result.page > 1 ? html`<a href="/${query({ ...keep, page: result.page - 1 })}" rel="prev">Previous page</a>` : ''}
        ${result.page < result.pages ? html`<a href="/${query({ ...keep, page: result.page + 1 })}" rel="next">Next page</a>` : ''}
      </nav>`;
    return sendPage(request, reply, { title: 'Inventory', section: 'inventory', body });
  });
}
