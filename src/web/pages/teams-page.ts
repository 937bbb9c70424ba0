// Teams (`/teams`, and one team at `/teams/:team`): the admin-managed team records (src/directory/team-records.ts)
// and the teams the registry or the directory names without a record yet, with their keys counted; a team's page
// shows its members, the keys each owns, and the team's keys' headline counts. Admins create and adopt teams, add
// and remove members and set the shared contact; everyone else reads what they may (security every team, a member
// their own), and a refused page or form is a 403 and an event. Changes reach each person's access at their next
// request (src/server/team-access.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TEAM_MEMBER_ROLES, type TeamMemberRole, type TeamRecord } from '../../directory/team-records.js';
import { KeyledgerError } from '../../errors/keyledger-error.js';
import type { LoadedEntry } from '../../registry/registry-loader.js';
import { hasRole, type Principal } from '../../server/access.js';
import { peopleByTeam, teamSummaries } from '../../server/team-overview.js';
import { html, query, type SafeHtml } from '../html.js';
import { inventoryIndexOf } from '../inventory-index.js';
import type { Snapshot } from '../registry-snapshot.js';
import { actorOf, csrfField, deny, sendPage, type WebContext } from '../web-context.js';

type Form = Record<string, string | undefined>;

/** Each snapshot's entries grouped by owner_team: the inventory's index of the snapshot (../inventory-index.ts). */
export function entriesByTeam(snapshot: Snapshot): ReadonlyMap<string, readonly LoadedEntry[]> {
  return inventoryIndexOf(snapshot).byTeam;
}

function canReadTeam(principal: Principal, team: string): boolean {
  return hasRole(principal, 'security') || principal.teams.includes(team);
}

function field(request: FastifyRequest, name: string): string {
  return String((request.body as Form | undefined)?.[name] ?? '').trim();
}

export function registerTeamsPage(instance: FastifyInstance, context: WebContext): void {
  const records = context.teams.records;
  const app = context.server.app;

  instance.get('/teams', async (request, reply) => {
    const principal = request.principal!;
    const notice = (request.query as Form).notice;
    const snapshot = await context.snapshot.get();
    const summaries = teamSummaries({
      records: await records.list(),
      people: await peopleByTeam(app),
      entriesByTeam: entriesByTeam(snapshot),
    }).filter((team) => canReadTeam(principal, team.slug));
    const admin = hasRole(principal, 'admin');
    const body = html`
      <p role="status">${summaries.length} teams; ${summaries.filter((team) => !team.recorded).length} named by the registry or the directory without a record yet.</p>
      <div class="table-wrap"><table class="responsive teams"><caption class="skip">Teams</caption>
        <thead><tr><th scope="col">Team</th><th scope="col">Name</th><th scope="col">Record</th><th scope="col">Shared contact</th><th scope="col">Members</th><th scope="col">People</th><th scope="col">Active keys</th><th scope="col">Keys</th>${admin ? html`<th scope="col">Actions</th>` : ''}</tr></thead>
        <tbody>${summaries.map(
          (team) => html`<tr class="team" data-team="${team.slug}">
            <td data-label="Team"><a href="/teams/${encodeURIComponent(team.slug)}"><code>${team.slug}</code></a></td>
            <td data-label="Name">${team.displayName}</td>
            <td data-label="Record">${team.recorded ? 'record' : html`<span class="flag">not yet a record</span>`}</td>
            <td data-label="Shared contact">${team.contact ?? '-'}</td>
            <td data-label="Members">${team.members}</td>
            <td data-label="People">${team.people}</td>
            <td data-label="Active keys">${team.activeKeys.toLocaleString('en')}</td>
            <td data-label="Keys"><a href="/${query({ team: team.slug })}">${team.keys.toLocaleString('en')}</a></td>
            ${
              admin
                ? html`<td data-label="Actions">${
                    team.recorded
                      ? ''
                      : html`<form method="post" action="/teams" class="inline">${csrfField(request)}<input type="hidden" name="team" value="${team.slug}"><button type="submit" class="secondary" aria-label="Adopt ${team.slug}">Adopt</button></form>`
                  }</td>`
                : ''
            }
          </tr>`,
        )}</tbody>
      </table></div>
      ${
        admin
          ? html`<h2 id="create-team">Create a team</h2>
      <form method="post" action="/teams" class="stack" aria-labelledby="create-team">
        ${csrfField(request)}
        <label>Slug, as registry entries name the team in <code>owner_team</code> (letters, digits, “.”, “_” or “-”) <input name="team" required maxlength="100" autocomplete="off"></label>
        <label>Display name <input name="display_name" maxlength="200"></label>
        <label>Description <input name="description" maxlength="2000"></label>
        <label>Shared contact (an on-call alias or a manager’s email) <input name="contact" maxlength="320"></label>
        <div><button type="submit">Create team</button></div>
      </form>`
          : html`<p>Only an admin changes teams; ask one to add you to a team or to change its contact.</p>`
      }`;
    return sendPage(request, reply, { title: 'Teams', section: 'teams', body, ...(notice ? { notice } : {}) });
  });

  instance.get<{ Params: { team: string } }>('/teams/:team', async (request, reply) => {
    const principal = request.principal!;
    const slug = request.params.team;
    if (!canReadTeam(principal, slug)) return deny(context, request, reply, 'read-team');
    const notice = (request.query as Form).notice;
    const snapshot = await context.snapshot.get();
    const record = await records.get(slug);
    const entries = entriesByTeam(snapshot).get(slug) ?? [];
    const people = (await peopleByTeam(app)).get(slug) ?? new Set<string>();
    if (!record && entries.length === 0 && people.size === 0)
      return sendPage(
        request,
        reply,
        {
          title: 'No such team',
          section: 'teams',
          body: html`<p class="error">No record, registry entry or person names the team “${slug}”.</p><p><a href="/teams">All teams</a></p>`,
        },
        404,
      );
    const admin = hasRole(principal, 'admin');
    const headline = teamHeadline(snapshot, entries);
    const ownedBy = new Map<string, number>();
    for (const { entry } of entries) {
      const owner = entry.owner_individual?.toLowerCase();
      if (owner && entry.status === 'active') ownedBy.set(owner, (ownedBy.get(owner) ?? 0) + 1);
    }
    const path = `/teams/${encodeURIComponent(slug)}`;
    const body = html`
      <dl class="entry">
        <dt>Slug</dt><dd><code>${slug}</code></dd>
        <dt>Record</dt><dd>${record ? html`kept since ${record.createdAt.slice(0, 10)} (by ${record.createdBy}); changed ${record.updatedAt.slice(0, 10)} by ${record.updatedBy}` : 'not yet a record: the registry or the directory names this team'}</dd>
        <dt>Description</dt><dd>${record?.description ?? '-'}</dd>
        <dt>Shared contact</dt><dd id="team-contact">${record?.contact ?? '-'}</dd>
        <dt>People in the directory</dt><dd>${people.size}</dd>
      </dl>
      <ul class="cards" aria-label="The team's keys">
        <li><a href="/${query({ team: slug, status: 'active' })}"><strong>${headline.active}</strong>active keys</a></li>
        <li><a href="/${query({ team: slug, flag: 'rotation-overdue' })}"><strong>${headline.overdue}</strong>past their rotation date</a></li>
        <li><a href="/${query({ team: slug, flag: 'no-clear-owner' })}"><strong>${headline.noClearOwner}</strong>without a clear owner</a></li>
        <li><a href="/${query({ team: slug, flag: 'owner-left' })}"><strong>${headline.ownerLeft}</strong>owned by people who left</a></li>
        <li><a href="/${query({ team: slug, flag: 'broad-scope' })}"><strong>${headline.adminScope}</strong>with admin or broad scope</a></li>
      </ul>
      <h2>Members</h2>
      ${
        record && record.members.length > 0
          ? html`<div class="table-wrap"><table class="responsive members"><caption class="skip">Members of ${slug}</caption>
        <thead><tr><th scope="col">Person</th><th scope="col">Role</th><th scope="col">Active keys they own here</th><th scope="col">Added</th>${admin ? html`<th scope="col">Actions</th>` : ''}</tr></thead>
        <tbody>${record.members.map(
          (member) => html`<tr class="member" data-email="${member.email}">
            <td data-label="Person">${member.email}</td>
            <td data-label="Role">${member.role}</td>
            <td data-label="Active keys they own here">${ownedBy.get(member.email) ?? 0}</td>
            <td data-label="Added">${member.addedAt.slice(0, 10)} by ${member.addedBy}</td>
            ${
              admin
                ? html`<td data-label="Actions"><form method="post" action="${path}/members/remove" class="inline">${csrfField(request)}<input type="hidden" name="email" value="${member.email}"><button type="submit" class="secondary" aria-label="Remove ${member.email}">Remove</button></form></td>`
                : ''
            }
          </tr>`,
        )}</tbody></table></div>`
          : html`<p>${record ? 'No members yet.' : 'A team without a record has no members here; its people come from the directory.'}</p>`
      }
      ${admin ? adminForms(request, path, slug, record) : ''}`;
    return sendPage(request, reply, {
      title: record && record.displayName !== slug ? `${record.displayName} (team)` : `Team ${slug}`,
      section: 'teams',
      body,
      ...(notice ? { notice } : {}),
    });
  });

  /** An admin's action: refused (403 and an event) for anyone else; a refusal of the records is a notice. */
  const act = (
    url: string,
    action: string,
    work: (request: FastifyRequest, principal: Principal) => Promise<{ team: string; notice: string }>,
  ) =>
    instance.post<{ Params: { team?: string } }>(url, async (request, reply: FastifyReply) => {
      const principal = request.principal!;
      if (!hasRole(principal, 'admin')) return deny(context, request, reply, action);
      let result: { team: string; notice: string };
      try {
        result = await work(request, principal);
      } catch (error) {
        const team = request.params.team ?? field(request, 'team');
        const notice = `Not done: ${error instanceof KeyledgerError ? error.message : 'unexpected error'}`;
        const back = request.params.team ? `/teams/${encodeURIComponent(team)}` : '/teams';
        return reply.redirect(`${back}${query({ notice })}`, 303);
      }
      return reply.redirect(`/teams/${encodeURIComponent(result.team)}${query({ notice: result.notice })}`, 303);
    });

  act('/teams', 'create-team', async (request, principal) => {
    const record = await records.create(
      {
        slug: field(request, 'team'),
        displayName: field(request, 'display_name') || undefined,
        description: field(request, 'description') || undefined,
        contact: field(request, 'contact') || undefined,
      },
      actorOf(principal),
    );
    return { team: record.slug, notice: `Team ${record.slug} created.` };
  });

  act('/teams/:team', 'change-team', async (request, principal) => {
    const slug = (request.params as { team: string }).team;
    const record = await records.update(
      slug,
      {
        displayName: field(request, 'display_name') || undefined,
        description: field(request, 'description') || null,
        contact: field(request, 'contact') || null,
      },
      actorOf(principal),
    );
    return { team: record.slug, notice: `Team ${record.slug} saved.` };
  });

  act('/teams/:team/members', 'add-team-member', async (request, principal) => {
    const slug = (request.params as { team: string }).team;
    const role = field(request, 'role') || 'member';
    const email = field(request, 'email');
    const { created, changed } = await records.putMember(slug, email, role as TeamMemberRole, actorOf(principal));
    const who = email.toLowerCase();
    return {
      team: slug,
      notice: created
        ? `${who} added to ${slug} as ${role}.`
        : changed
          ? `${who} is now ${role} of ${slug}.`
          : `${who} was already ${role} of ${slug}.`,
    };
  });

  act('/teams/:team/members/remove', 'remove-team-member', async (request, principal) => {
    const slug = (request.params as { team: string }).team;
    const email = field(request, 'email');
    const removed = await records.removeMember(slug, email, actorOf(principal));
    return { team: slug, notice: removed ? `${email} removed from ${slug}.` : `${email} was not in ${slug}.` };
  });
}

function adminForms(request: FastifyRequest, path: string, slug: string, record: TeamRecord | undefined): SafeHtml {
  if (!record)
    return html`<h2 id="adopt-team">Adopt this team</h2>
      <form method="post" action="/teams" class="stack" aria-labelledby="adopt-team">${csrfField(request)}
        <input type="hidden" name="team" value="${slug}">
        <label>Display name <input name="display_name" maxlength="200" value="${slug}"></label>
        <label>Shared contact (an on-call alias or a manager’s email) <input name="contact" maxlength="320"></label>
        <div><button type="submit">Adopt team</button></div>
      </form>`;
  return html`<h2 id="add-member">Add a member</h2>
    <form method="post" action="${path}/members" class="stack" aria-labelledby="add-member">${csrfField(request)}
      <label>Email <input type="email" name="email" required autocomplete="off"></label>
      <label>Role in the team <select name="role">${TEAM_MEMBER_ROLES.map((role) => html`<option value="${role}">${role}</option>`)}</select></label>
      <div><button type="submit">Add member</button></div>
    </form>
    <h2 id="team-details">Name, description and shared contact</h2>
    <form method="post" action="${path}" class="stack" aria-labelledby="team-details">${csrfField(request)}
      <label>Display name <input name="display_name" maxlength="200" value="${record.displayName}"></label>
      <label>Description <input name="description" maxlength="2000" value="${record.description ?? ''}"></label>
      <label>Shared contact (an on-call alias or a manager’s email) <input name="contact" maxlength="320" value="${record.contact ?? ''}"></label>
      <div><button type="submit">Save team</button></div>
    </form>`;
}

/** The inventory's headline counts over one team's keys (the audit's classes of the snapshot), and overdue ones. */
function teamHeadline(snapshot: Snapshot, entries: readonly LoadedEntry[]) {
  const headline = { active: 0, overdue: 0, noClearOwner: 0, ownerLeft: 0, adminScope: 0 };
  for (const { entry } of entries) {
    const classes = snapshot.classes.get(entry.key_id);
    if (entry.status === 'active') headline.active += 1;
    if (classes?.has('rotation-overdue')) headline.overdue += 1;
    if (classes?.has('no-clear-owner')) headline.noClearOwner += 1;
    if (classes?.has('owner-left')) headline.ownerLeft += 1;
    if (classes?.has('broad-scope')) headline.adminScope += 1;
  }
  return headline;
}
