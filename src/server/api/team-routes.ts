// /teams and /roles: the admin-managed team records and role grants (src/directory/team-records.ts). Admins write
// (scope `teams:write`); the security role reads every team and the grants; a member reads the teams they are in.
// A team's ETag is its record's version (not its key counts, which move with the registry), and PATCH and DELETE
// need it in If-Match; DELETE is refused while registry entries still name the team. Every refusal is an event.
import type { FastifyRequest } from 'fastify';
import type { TeamRecord } from '../../directory/team-records.js';
import { NotFoundError } from '../../errors/keyledger-error.js';
import { hasRole, type Principal, type Role } from '../access.js';
import { actorOf } from '../auth/access-denials.js';
import { HttpProblem } from '../problem-details.js';
import { peopleByTeam, teamKeyCounts, teamSummaries } from '../team-overview.js';
import { type ApiRoute, defineRoute, etagOf, requireIfMatch } from './api-route.js';
import {
  createTeamBody,
  roleGrantParams,
  roleGrantResponse,
  roleGrantsResponse,
  roleRevokedResponse,
  teamDeletedResponse,
  teamMemberBody,
  teamMemberParams,
  teamMemberRemovedResponse,
  teamParams,
  teamResponse,
  teamsResponse,
  updateTeamBody,
} from './api-schemas.js';
import type { ApiServices } from './api-services.js';

/** A record's entity tag: its slug, creation and version, which every change to it or its members bumps. */
export function teamEtag(record: TeamRecord): string {
  return etagOf({ team: record.slug, created_at: record.createdAt, version: record.version });
}

export function teamRoutes(services: ApiServices): ApiRoute[] {
  const { app, clock, index, denials } = services;
  const records = services.teams.records;

  const requireRole = async (request: FastifyRequest, principal: Principal, role: Role, what: string) => {
    if (hasRole(principal, role)) return;
    await denials.record(request, principal, `needs the ${role} role: ${what}`);
    throw new HttpProblem(403, 'E_FORBIDDEN', `${what} is for the ${role} role`);
  };

  /** Security and admins see every team; a member the teams they are in (a refusal is an event). */
  const requireTeamReader = async (request: FastifyRequest, principal: Principal, team: string) => {
    if (hasRole(principal, 'security') || principal.teams.includes(team)) return;
    await denials.record(request, principal, `team ${team} is not the caller's`);
    throw new HttpProblem(403, 'E_FORBIDDEN', `you are not in team ${team}`);
  };

  const requireRecord = async (team: string): Promise<TeamRecord> => {
    const record = await records.get(team);
    if (!record) throw new NotFoundError('E_TEAM_NOT_FOUND', `no team record "${team}": create it with POST /teams`);
    return record;
  };

  /** The team as the API shows it: the record (if any), its members, its people and its keys counted. */
  const teamBody = async (team: string, record: TeamRecord | undefined) => {
    const snapshot = await index.current();
    const entries = snapshot.byTeam.get(team) ?? [];
    const people = (await peopleByTeam(app)).get(team)?.size ?? 0;
    if (!record && entries.length === 0 && people === 0) return undefined;
    const counts = teamKeyCounts(entries, clock());
    return {
      team,
      display_name: record?.displayName ?? team,
      recorded: record !== undefined,
      ...(record?.description ? { description: record.description } : {}),
      ...(record?.contact ? { contact: record.contact } : {}),
      members: (record?.members ?? []).map((member) => ({
        email: member.email,
        role: member.role,
        added_at: member.addedAt,
        added_by: member.addedBy,
      })),
      people,
      keys: {
        total: counts.total,
        active: counts.active,
        rotation_overdue: counts.rotationOverdue,
        revoked: counts.revoked,
      },
      ...(record
        ? {
            created_at: record.createdAt,
            created_by: record.createdBy,
            updated_at: record.updatedAt,
            updated_by: record.updatedBy,
            version: record.version,
          }
        : {}),
    };
  };

  const teamLocation = (request: FastifyRequest, team: string) =>
    `${request.routeOptions.url?.replace(/\/teams.*$/, '') ?? ''}/teams/${encodeURIComponent(team)}`;

  return [
    defineRoute({
      method: 'GET',
      path: '/teams',
      operationId: 'listTeams',
      summary:
        'Teams: the records, and the teams the registry or the directory names without one (recorded: false), with counts',
      tag: 'teams',
      scope: 'people:read',
      response: teamsResponse,
      handler: async ({ principal }) => {
        const summaries = teamSummaries({
          records: await records.list(),
          people: await peopleByTeam(app),
          entriesByTeam: (await index.current()).byTeam,
        });
        const items = summaries
          .filter((team) => hasRole(principal, 'security') || principal.teams.includes(team.slug))
          .map((team) => ({
            team: team.slug,
            display_name: team.displayName,
            recorded: team.recorded,
            ...(team.description ? { description: team.description } : {}),
            ...(team.contact ? { contact: team.contact } : {}),
            members: team.members,
            people: team.people,
            keys: team.keys,
            active_keys: team.activeKeys,
          }));
        return { body: { items } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/teams',
      operationId: 'createTeam',
      summary: 'Create a team record, or adopt a team the registry or the directory already names (admin)',
      tag: 'teams',
      scope: 'teams:write',
      body: createTeamBody,
      response: teamResponse,
      status: 201,
      handler: async ({ body, principal, request }) => {
        await requireRole(request, principal, 'admin', 'creating a team');
        const record = await records.create(
          {
            slug: body.team,
            displayName: body.display_name,
            description: body.description,
            contact: body.contact,
            members: body.members,
          },
          actorOf(principal),
        );
        return {
          status: 201,
          etag: teamEtag(record),
          location: teamLocation(request, record.slug),
          body: await teamBody(record.slug, record),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/teams/:team',
      operationId: 'getTeam',
      summary: 'One team: its record and members (or recorded: false), its people and its keys counted',
      tag: 'teams',
      scope: 'people:read',
      params: teamParams,
      response: teamResponse,
      handler: async ({ params, principal, request }) => {
        await requireTeamReader(request, principal, params.team);
        const record = await records.get(params.team);
        const body = await teamBody(params.team, record);
        if (!body) throw new NotFoundError('E_TEAM_NOT_FOUND', `no team "${params.team}"`);
        return { body, ...(record ? { etag: teamEtag(record) } : {}) };
      },
    }),
    defineRoute({
      method: 'PATCH',
      path: '/teams/:team',
      operationId: 'updateTeam',
      summary: "Change a team's display name, description or shared contact (admin; If-Match)",
      tag: 'teams',
      scope: 'teams:write',
      params: teamParams,
      body: updateTeamBody,
      response: teamResponse,
      ifMatch: 'team',
      handler: async ({ params, body, principal, request }) => {
        await requireRole(request, principal, 'admin', 'changing a team');
        const before = await requireRecord(params.team);
        requireIfMatch(request, teamEtag(before), { kind: 'team', id: params.team });
        const record = await records.update(
          params.team,
          {
            ...(body.display_name !== undefined ? { displayName: body.display_name } : {}),
            ...(body.description !== undefined ? { description: body.description } : {}),
            ...(body.contact !== undefined ? { contact: body.contact } : {}),
          },
          actorOf(principal),
          { expectedVersion: before.version },
        );
        return { etag: teamEtag(record), body: await teamBody(record.slug, record) };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/teams/:team',
      operationId: 'deleteTeam',
      summary: 'Delete a team record (admin; If-Match); refused while registry entries still name the team',
      tag: 'teams',
      scope: 'teams:write',
      params: teamParams,
      response: teamDeletedResponse,
      ifMatch: 'team',
      handler: async ({ params, principal, request }) => {
        await requireRole(request, principal, 'admin', 'deleting a team');
        const before = await requireRecord(params.team);
        requireIfMatch(request, teamEtag(before), { kind: 'team', id: params.team });
        const named = (await index.current({ force: true })).byTeam.get(params.team) ?? [];
        if (named.length > 0)
          throw new HttpProblem(
            409,
            'E_TEAM_IN_USE',
            `${named.length} registry entries still name team "${params.team}" as owner_team: reassign them first`,
            { keys: named.length, key_ids: named.slice(0, 20).map((loaded) => loaded.entry.key_id) },
          );
        await records.delete(params.team, actorOf(principal), { expectedVersion: before.version });
        return { body: { team: params.team, deleted: true } };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/teams/:team/members/:email',
      operationId: 'putTeamMember',
      summary: 'Add a person to a team, or change their role in it (member or lead) (admin)',
      tag: 'teams',
      scope: 'teams:write',
      params: teamMemberParams,
      body: teamMemberBody,
      response: teamResponse,
      otherResponses: [{ status: 201, description: 'the person was added', response: teamResponse }],
      handler: async ({ params, body, principal, request }) => {
        await requireRole(request, principal, 'admin', 'changing team members');
        const { record, created } = await records.putMember(params.team, params.email, body.role, actorOf(principal));
        return {
          status: created ? 201 : 200,
          etag: teamEtag(record),
          body: await teamBody(record.slug, record),
        };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/teams/:team/members/:email',
      operationId: 'removeTeamMember',
      summary: 'Take a person out of a team (admin)',
      tag: 'teams',
      scope: 'teams:write',
      params: teamMemberParams,
      response: teamMemberRemovedResponse,
      handler: async ({ params, principal, request }) => {
        await requireRole(request, principal, 'admin', 'changing team members');
        const removed = await records.removeMember(params.team, params.email, actorOf(principal));
        if (!removed)
          throw new NotFoundError('E_TEAM_MEMBER_NOT_FOUND', `${params.email} is not in team "${params.team}"`);
        return { body: { team: params.team, email: params.email.toLowerCase(), removed: true } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/roles',
      operationId: 'listRoleGrants',
      summary: 'Who an admin granted the security or admin role (security and admin)',
      tag: 'teams',
      scope: 'people:read',
      response: roleGrantsResponse,
      handler: async ({ principal, request }) => {
        await requireRole(request, principal, 'security', 'reading role grants');
        const grants = await records.grants();
        return {
          body: {
            items: grants.map((grant) => ({
              email: grant.email,
              role: grant.role,
              granted_at: grant.grantedAt,
              granted_by: grant.grantedBy,
            })),
          },
        };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/roles/:role/people/:email',
      operationId: 'grantRole',
      summary: 'Grant a person the security or admin role (admin); effective at their next request',
      tag: 'teams',
      scope: 'teams:write',
      params: roleGrantParams,
      response: roleGrantResponse,
      otherResponses: [{ status: 201, description: 'the role was granted', response: roleGrantResponse }],
      handler: async ({ params, principal, request }) => {
        await requireRole(request, principal, 'admin', 'granting roles');
        const { grant, created } = await records.grant(params.email, params.role, actorOf(principal));
        return {
          status: created ? 201 : 200,
          body: {
            email: grant.email,
            role: grant.role,
            granted_at: grant.grantedAt,
            granted_by: grant.grantedBy,
            created,
          },
        };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/roles/:role/people/:email',
      operationId: 'revokeRole',
      summary: 'Take a granted role back (admin); roles a login claim gives are the identity provider’s to change',
      tag: 'teams',
      scope: 'teams:write',
      params: roleGrantParams,
      response: roleRevokedResponse,
      handler: async ({ params, principal, request }) => {
        await requireRole(request, principal, 'admin', 'revoking roles');
        if (!(await records.revoke(params.email, params.role, actorOf(principal))))
          throw new NotFoundError('E_ROLE_GRANT_NOT_FOUND', `${params.email} holds no granted ${params.role} role`);
        return { body: { email: params.email.toLowerCase(), role: params.role, revoked: true } };
      },
    }),
  ];
}
