// /rotations (and each one's journal), /findings, /events, /people, /audit-reports, /tokens: the read side
// of what the services record, each filtered to what the principal may see (access.ts): members see their teams'
// keys' rows, the security role and admins see everything, audit reports and tokens are theirs alone.
import type { FastifyRequest } from 'fastify';
import { NotFoundError } from '../../errors/keyledger-error.js';
import type { LoggedEvent } from '../../events/event-log.js';
import { canReadKey, hasRole, type Principal, type Role } from '../access.js';
import { actorOf } from '../auth/access-denials.js';
import { HttpProblem } from '../problem-details.js';
import { type ApiRoute, defineRoute } from './api-route.js';
import {
  auditReportListResponse,
  auditReportParams,
  auditReportResponse,
  createdTokenResponse,
  createTokenBody,
  eventListQuery,
  eventPageResponse,
  findingsQuery,
  peopleQuery,
  peopleResponse,
  rotationIdParams,
  rotationListQuery,
  rotationListResponse,
  rotationResponse,
  tokenListResponse,
} from './api-schemas.js';
import type { ApiServices } from './api-services.js';
import { eventJson, ownershipOf, rotationJson } from './key-routes.js';

/** Batches of events one request reads at most while filtering a member's page. */
const MAX_EVENT_BATCHES = 20;

export function activityRoutes(services: ApiServices): ApiRoute[] {
  const { app, index, denials } = services;

  /** May the principal see rows about `keyId`? Security and admin: always; members: their teams' keys. */
  const seesKey = async (principal: Principal, keyId: string | null): Promise<boolean> => {
    if (hasRole(principal, 'security')) return true;
    if (!keyId) return false;
    const loaded = (await index.current()).byId.get(keyId);
    return loaded !== undefined && canReadKey(principal, ownershipOf(loaded.entry));
  };

  const requireRole = async (request: FastifyRequest, principal: Principal, role: Role) => {
    if (hasRole(principal, role)) return;
    await denials.record(request, principal, `needs the ${role} role`);
    throw new HttpProblem(403, 'E_FORBIDDEN', `this endpoint is for the ${role} role`);
  };

  /** A page of events newest first, keeping those the principal sees; the cursor is the last seq looked at. */
  const eventPage = async (
    principal: Principal,
    filter: { type?: string; keyId?: string; actor?: string; since?: string },
    cursor: string | undefined,
    limit: number,
  ) => {
    const items: LoggedEvent[] = [];
    let before = cursor ? Number(cursor) : undefined;
    // Members' pages are filtered after reading: read in batches until the page is full or the log ends — or
    // MAX_EVENT_BATCHES were read, when a short page and its cursor are returned, so that a member with few events
    // in a long log never makes one request read all of it.
    for (let batches = 1; ; batches++) {
      const batch = await app.events.list({
        ...filter,
        order: 'desc',
        limit: Math.max(limit, 200),
        ...(before !== undefined ? { beforeSeq: before } : {}),
      });
      let read = 0;
      for (const event of batch) {
        read++;
        before = event.seq;
        if (await seesKey(principal, event.keyId)) items.push(event);
        if (items.length === limit) break;
      }
      // The log ended when a short batch was read to its end.
      const logEnded = read === batch.length && batch.length < Math.max(limit, 200);
      if (items.length === limit || logEnded || batches === MAX_EVENT_BATCHES) {
        const more = !logEnded && before !== undefined && before > 1;
        return { items: items.map(eventJson), next_cursor: more ? String(before) : null };
      }
    }
  };

  return [
    defineRoute({
      method: 'GET',
      path: '/rotations',
      operationId: 'listRotations',
      summary: 'Rotations in the journal, newest first (in flight, done, failed, rolled back)',
      tag: 'rotations',
      scope: 'keys:read',
      query: rotationListQuery,
      response: rotationListResponse,
      handler: async ({ query, principal }) => {
        const rows = await app.rotation().journal.list({
          ...(query.key_id ? { keyId: query.key_id } : {}),
          ...(query.state ? { states: [query.state] } : {}),
          limit: hasRole(principal, 'security') ? query.limit : Math.max(query.limit, 1000),
        });
        const items = [];
        for (const row of rows) {
          if (items.length === query.limit) break;
          if (await seesKey(principal, row.key_id)) items.push(rotationJson(row));
        }
        return { body: { items } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/rotations/:rotationId',
      operationId: 'getRotation',
      summary: 'One rotation and its journal (its events, oldest first)',
      tag: 'rotations',
      scope: 'keys:read',
      params: rotationIdParams,
      response: rotationResponse,
      handler: async ({ params, principal, request }) => {
        const row = await app.rotation().journal.get(params.rotationId);
        if (!row) throw new NotFoundError('E_ROTATION_NOT_FOUND', `no rotation ${params.rotationId}`);
        if (!(await seesKey(principal, row.key_id))) {
          await denials.record(request, principal, 'rotation of another team', row.key_id);
          throw new HttpProblem(403, 'E_FORBIDDEN', `the rotation of ${row.key_id} belongs to a team you are not in`);
        }
        const events = await app.events.list({ keyId: row.key_id, since: row.created_at, limit: 10_000 });
        const journal = events.filter((event) => event.data.rotation_id === row.rotation_id);
        return { body: { rotation: rotationJson(row), journal: journal.map(eventJson) } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/findings',
      operationId: 'listFindings',
      summary: 'Leaked secrets attributed to registry keys (scan findings), newest first',
      tag: 'findings',
      scope: 'keys:read',
      query: findingsQuery,
      response: eventPageResponse,
      handler: async ({ query, principal }) => ({
        body: await eventPage(
          principal,
          { type: 'finding', ...(query.key_id ? { keyId: query.key_id } : {}) },
          query.cursor,
          query.limit,
        ),
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/events',
      operationId: 'listEvents',
      summary: 'The event log, newest first; members see the events of their teams’ keys',
      tag: 'events',
      scope: 'events:read',
      query: eventListQuery,
      response: eventPageResponse,
      handler: async ({ query, principal }) => ({
        body: await eventPage(
          principal,
          {
            ...(query.type ? { type: query.type } : {}),
            ...(query.key_id ? { keyId: query.key_id } : {}),
            ...(query.actor ? { actor: query.actor } : {}),
            ...(query.since ? { since: query.since } : {}),
          },
          query.cursor,
          query.limit,
        ),
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/people',
      operationId: 'listPeople',
      summary: 'The people directory; members see their teams',
      tag: 'people',
      scope: 'people:read',
      query: peopleQuery,
      response: peopleResponse,
      handler: async ({ query, principal }) => {
        const people = app.workspace.people?.people() ?? [];
        const items = people
          .filter((person) => hasRole(principal, 'security') || (person.team && principal.teams.includes(person.team)))
          .filter((person) => !query.team || person.team === query.team)
          .filter((person) => !query.status || person.status === query.status)
          .sort((a, b) => (a.email < b.email ? -1 : 1));
        return { body: { items } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/audit-reports',
      operationId: 'listAuditReports',
      summary: 'Quarterly audits, newest first (security and admin)',
      tag: 'audit',
      scope: 'audit:read',
      response: auditReportListResponse,
      handler: async ({ principal, request }) => {
        await requireRole(request, principal, 'security');
        const rows = await app.operational.db
          .selectFrom('audit_reports')
          .select(['id', 'as_of', 'generated_at', 'summary'])
          .orderBy('as_of', 'desc')
          .orderBy('generated_at', 'desc')
          .limit(200)
          .execute();
        return { body: { items: rows.map((row) => ({ ...row, summary: JSON.parse(row.summary) })) } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/audit-reports/:reportId',
      operationId: 'getAuditReport',
      summary: 'One quarterly audit with its findings (security and admin)',
      tag: 'audit',
      scope: 'audit:read',
      params: auditReportParams,
      response: auditReportResponse,
      handler: async ({ params, principal, request }) => {
        await requireRole(request, principal, 'security');
        const row = await app.operational.db
          .selectFrom('audit_reports')
          .selectAll()
          .where('id', '=', params.reportId)
          .executeTakeFirst();
        if (!row) throw new NotFoundError('E_AUDIT_REPORT_NOT_FOUND', `no audit report ${params.reportId}`);
        const findings = (row.findings === '' ? [] : row.findings.split('\n')).map((line) => {
          const [kind = '', keyId = ''] = line.split('\t');
          return { class: kind, key_id: keyId };
        });
        return {
          body: {
            id: row.id,
            as_of: row.as_of,
            generated_at: row.generated_at,
            summary: JSON.parse(row.summary),
            findings,
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/tokens',
      operationId: 'listTokens',
      summary: 'API tokens and their grants (admin); the tokens themselves are never shown again',
      tag: 'tokens',
      scope: 'tokens:write',
      response: tokenListResponse,
      handler: async ({ principal, request }) => {
        await requireRole(request, principal, 'admin');
        const grants = await services.tokens.list();
        return {
          body: {
            items: grants.map((grant) => ({
              key_id: grant.keyId,
              team: grant.team,
              role: grant.role,
              scopes: grant.scopes,
              created_at: grant.createdAt,
              created_by: grant.createdBy,
            })),
          },
        };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/tokens',
      operationId: 'createToken',
      summary: 'Create an API token (admin); the response is the only time the token is shown',
      tag: 'tokens',
      scope: 'tokens:write',
      body: createTokenBody,
      response: createdTokenResponse,
      status: 201,
      handler: async ({ body, principal, request }) => {
        await requireRole(request, principal, 'admin');
        const created = await services.tokens.create({
          team: body.team,
          role: body.role,
          scopes: body.scopes,
          expiresInDays: body.expires_in_days,
          owner: body.owner,
          actor: actorOf(principal),
        });
        await index.current({ force: true });
        return {
          status: 201,
          body: {
            key_id: created.keyId,
            token: created.token.reveal(),
            expires_at: created.expiresAt,
            team: created.team,
            role: created.role,
            scopes: created.scopes,
          },
        };
      },
    }),
  ];
}
