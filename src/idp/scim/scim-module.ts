// The SCIM 2.0 service provider (RFC 7643/7644) at `/scim/v2`, a ServerModule (src/server/server-module.ts):
// Okta and Microsoft Entra provision people into the directory through it, and a deactivation (`active: false`,
// by PATCH or PUT) or a DELETE becomes a directory signal that starts offboarding (docs/offboarding.md). Every
// request carries the bearer token `keyledger idp token create --source scim` printed; answers are
// `application/scim+json`, errors the SCIM error body (scim-error.ts).
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DirectoryGroups, UnknownMemberError } from '../../directory/directory-groups.js';
import {
  DirectoryConflictError,
  type DirectoryRecord,
  type DirectoryStore,
  directoryFor,
} from '../../directory/directory-store.js';
import type { PersonStatus } from '../../directory/identity-source.js';
import { verifyIdpCredential } from '../../directory/idp-credentials.js';
import type { Principal } from '../../server/access.js';
import type { ServerContext, ServerModule } from '../../server/server-module.js';
import {
  DEFAULT_PAGE_SIZE,
  listResponse,
  MAX_PAGE_SIZE,
  resourceTypes,
  schemas,
  serviceProviderConfig,
} from './scim-discovery.js';
import { ScimError } from './scim-error.js';
import { matchesScimFilter, parseScimFilter, type ScimFilter } from './scim-filter.js';
import { groupInputOf, groupResourceOf } from './scim-group-resource.js';
import { applyScimPatch } from './scim-patch.js';
import { type UserInput, userInputOf, userResourceOf } from './scim-user-resource.js';

export const SCIM_PREFIX = '/scim/v2';
export const SCIM_SOURCE = 'scim';
const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

/** Request-id headers the identity providers send; part of a signal's id so a retry is recognised. */
const REQUEST_ID_HEADERS = ['x-okta-request-id', 'client-request-id', 'x-ms-client-request-id', 'x-request-id'];

const SCIM_PRINCIPAL: Principal = {
  kind: 'identity-provider',
  subject: SCIM_SOURCE,
  roles: [],
  teams: [],
  scopes: ['scim'],
};

type Json = Record<string, unknown>;

export function createScimModule(): ServerModule {
  return {
    name: 'scim',
    register: async (server, context) => {
      await server.register(async (scope) => registerScimRoutes(scope, context), { prefix: SCIM_PREFIX });
    },
  };
}

async function registerScimRoutes(scope: FastifyInstance, context: ServerContext): Promise<void> {
  const db = context.app.operational.db;
  const directory = directoryFor(db, context.clock);
  const groups = new DirectoryGroups({ db, clock: context.clock });
  const baseUrl = `${context.publicUrl.replace(/\/+$/, '')}${SCIM_PREFIX}`;

  scope.addContentTypeParser('application/scim+json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new ScimError(400, 'invalidSyntax', 'the body is not valid JSON'), undefined);
    }
  });

  scope.addHook('onRequest', async (request) => {
    const header = request.headers.authorization ?? '';
    const match = /^bearer\s+(.+)$/i.exec(header.trim());
    if (!match || !(await verifyIdpCredential(db, 'scim', match[1]!.trim()))) {
      throw new ScimError(
        401,
        undefined,
        'a valid bearer token is required (keyledger idp token create --source scim)',
      );
    }
    request.principal = SCIM_PRINCIPAL;
  });

  scope.setErrorHandler((error, request, reply) => {
    const scimError = toScimError(error);
    if (scimError.status >= 500) context.logger.error({ err: error, url: request.url }, 'SCIM request failed');
    if (scimError.status === 401) reply.header('www-authenticate', 'Bearer realm="keyledger-scim"');
    return reply.code(scimError.status).type(SCIM_CONTENT_TYPE).send(scimError.toBody());
  });
  scope.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type(SCIM_CONTENT_TYPE)
      .send(new ScimError(404, undefined, `no SCIM endpoint ${request.method} ${request.url}`).toBody()),
  );

  const send = (reply: FastifyReply, status: number, body: unknown) =>
    reply.code(status).type(SCIM_CONTENT_TYPE).send(body);

  scope.get('/ServiceProviderConfig', async (_request, reply) => send(reply, 200, serviceProviderConfig(baseUrl)));
  scope.get('/ResourceTypes', async (request, reply) =>
    send(reply, 200, listResponse(resourceTypes(baseUrl), pageOf(request))),
  );
  scope.get<{ Params: { id: string } }>('/ResourceTypes/:id', async (request, reply) => {
    const found = resourceTypes(baseUrl).find((type) => type.id === request.params.id);
    if (!found) throw new ScimError(404, undefined, `no resource type ${request.params.id}`);
    return send(reply, 200, found);
  });
  scope.get('/Schemas', async (request, reply) => send(reply, 200, listResponse(schemas(baseUrl), pageOf(request))));
  scope.get<{ Params: { id: string } }>('/Schemas/:id', async (request, reply) => {
    const found = schemas(baseUrl).find((schema) => schema.id === request.params.id);
    if (!found) throw new ScimError(404, undefined, `no schema ${request.params.id}`);
    return send(reply, 200, found);
  });

  // --- Users -------------------------------------------------------------------------------------------------

  const liveRecord = async (id: string): Promise<DirectoryRecord> => {
    const record = await directory.findRecord(id);
    if (!record || record.person.id !== id || record.deletedAt)
      throw new ScimError(404, undefined, `User ${id} not found`);
    return record;
  };

  scope.get('/Users', async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const filter = query.filter ? parseScimFilter(query.filter) : undefined;
    const userName = filter ? userNameEquality(filter) : undefined;
    const records =
      userName !== undefined ? await directory.recordsByUserName(userName) : await directory.listRecords();
    const resources = records
      .filter((record) => !record.deletedAt)
      .map((record) => userResourceOf(record, baseUrl))
      .filter((resource) => !filter || matchesScimFilter(resource, filter));
    const page = pageOf(request);
    const body = listResponse(resources, page);
    body.Resources = (body.Resources as Json[]).map((resource) => project(resource, query));
    return send(reply, 200, body);
  });

  scope.get<{ Params: { id: string } }>('/Users/:id', async (request, reply) => {
    const record = await liveRecord(request.params.id);
    return send(reply, 200, project(userResourceOf(record, baseUrl), request.query as Record<string, string>));
  });

  scope.post('/Users', async (request, reply) => {
    const input = userInputOf(request.body);
    const details = { ...input.details, ...(await managerOf(directory, input)) };
    const existing = await adoptable(directory, input);
    const created = existing
      ? await directory.update(existing.person.id, details, input.attributes, { restore: true })
      : await directory.create(details, input.attributes, SCIM_SOURCE);
    const wanted: PersonStatus = input.active ? 'active' : 'deprovisioned';
    if (created.person.status !== wanted) await signal(directory, request, created, wanted, context);
    const record = await liveRecord(created.person.id);
    reply.header('location', `${baseUrl}/Users/${record.person.id}`);
    return send(reply, 201, userResourceOf(record, baseUrl));
  });

  const replaceUser = async (request: FastifyRequest, record: DirectoryRecord, input: UserInput) => {
    const details = { ...input.details, ...(await managerOf(directory, input)) };
    await directory.update(record.person.id, details, input.attributes);
    const wanted: PersonStatus = input.active ? 'active' : 'deprovisioned';
    if (record.person.status !== wanted) await signal(directory, request, record, wanted, context);
    return liveRecord(record.person.id);
  };

  scope.put<{ Params: { id: string } }>('/Users/:id', async (request, reply) => {
    const record = await liveRecord(request.params.id);
    const updated = await replaceUser(request, record, userInputOf(request.body));
    return send(reply, 200, userResourceOf(updated, baseUrl));
  });

  scope.patch<{ Params: { id: string } }>('/Users/:id', async (request, reply) => {
    const record = await liveRecord(request.params.id);
    const { meta: _meta, ...current } = userResourceOf(record, baseUrl);
    const patched = applyScimPatch(current, request.body);
    const updated = await replaceUser(request, record, userInputOf(patched));
    return send(reply, 200, userResourceOf(updated, baseUrl));
  });

  scope.delete<{ Params: { id: string } }>('/Users/:id', async (request, reply) => {
    const record = await liveRecord(request.params.id);
    if (record.person.status !== 'deprovisioned') await signal(directory, request, record, 'deprovisioned', context);
    await directory.markDeleted(record.person.id);
    return reply.code(204).send();
  });

  // --- Groups ------------------------------------------------------------------------------------------------

  const displayNames = async (): Promise<(id: string) => string | undefined> => {
    const people = await directory.list();
    const names = new Map(people.map((person) => [person.id, person.displayName ?? person.email]));
    return (id) => names.get(id);
  };
  const liveGroup = async (id: string) => {
    const group = await groups.get(id);
    if (!group) throw new ScimError(404, undefined, `Group ${id} not found`);
    return group;
  };

  scope.get('/Groups', async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const filter = query.filter ? parseScimFilter(query.filter) : undefined;
    const displayOf = await displayNames();
    const resources = (await groups.list())
      .map((group) => groupResourceOf(group, baseUrl, displayOf))
      .filter((resource) => !filter || matchesScimFilter(resource, filter));
    const body = listResponse(resources, pageOf(request));
    body.Resources = (body.Resources as Json[]).map((resource) => project(resource, query));
    return send(reply, 200, body);
  });

  scope.get<{ Params: { id: string } }>('/Groups/:id', async (request, reply) => {
    const group = await liveGroup(request.params.id);
    const resource = groupResourceOf(group, baseUrl, await displayNames());
    return send(reply, 200, project(resource, request.query as Record<string, string>));
  });

  scope.post('/Groups', async (request, reply) => {
    const group = await groups.create(groupInputOf(request.body));
    reply.header('location', `${baseUrl}/Groups/${group.id}`);
    return send(reply, 201, groupResourceOf(group, baseUrl, await displayNames()));
  });

  scope.put<{ Params: { id: string } }>('/Groups/:id', async (request, reply) => {
    await liveGroup(request.params.id);
    const group = await groups.replace(request.params.id, groupInputOf(request.body));
    return send(reply, 200, groupResourceOf(group, baseUrl, await displayNames()));
  });

  scope.patch<{ Params: { id: string } }>('/Groups/:id', async (request, reply) => {
    const group = await liveGroup(request.params.id);
    const { meta: _meta, ...current } = groupResourceOf(group, baseUrl, () => undefined);
    const patched = applyScimPatch(current, request.body);
    const updated = await groups.replace(group.id, groupInputOf(patched));
    return send(reply, 200, groupResourceOf(updated, baseUrl, await displayNames()));
  });

  scope.delete<{ Params: { id: string } }>('/Groups/:id', async (request, reply) => {
    if (!(await groups.delete(request.params.id)))
      throw new ScimError(404, undefined, `Group ${request.params.id} not found`);
    return reply.code(204).send();
  });
}

/**
 * Records the status change a SCIM request asked for. The signal's id hashes the request (method, path, body, the
 * provider's request id) and the resource's version before it, so a retried request is a duplicate while the same
 * body sent after a reactivation is a new signal.
 */
async function signal(
  directory: DirectoryStore,
  request: FastifyRequest,
  record: DirectoryRecord,
  status: PersonStatus,
  context: ServerContext,
): Promise<void> {
  const requestId = REQUEST_ID_HEADERS.map((name) => request.headers[name]).find((value) => typeof value === 'string');
  const hash = createHash('sha256')
    .update(`${request.method}\n${request.url.split('?')[0]}\n${JSON.stringify(request.body ?? null)}\n`)
    .update(`${requestId ?? ''}\n${record.version}`)
    .digest('hex');
  await directory.apply({
    signalId: `scim:${hash}`,
    source: SCIM_SOURCE,
    email: record.person.email,
    status,
    at: context.clock().toISOString(),
  });
}

/**
 * The person a POST provisions when the directory already has them: someone another source reported (the HR
 * file, an Okta event) and no SCIM client has provisioned, or one a SCIM client deleted and now provisions again.
 * Anyone else already holding the email or userName is a 409 (DirectoryStore.create).
 */
async function adoptable(directory: DirectoryStore, input: UserInput): Promise<DirectoryRecord | undefined> {
  const byEmail = await directory.findRecord(input.details.email);
  const byUserName = await directory.findRecord(input.details.userName);
  const found = byEmail ?? byUserName;
  if (!found || (byEmail && byUserName && byEmail.person.id !== byUserName.person.id)) return undefined;
  if (found.deletedAt) return found;
  return found.person.userName === undefined && found.person.email === input.details.email ? found : undefined;
}

/** The value of a filter that is `userName eq "..."` (alone, or and-ed with more), which an index answers. */
function userNameEquality(filter: ScimFilter): string | undefined {
  if (filter.kind === 'and') return userNameEquality(filter.left) ?? userNameEquality(filter.right);
  if (
    filter.kind === 'compare' &&
    filter.op === 'eq' &&
    typeof filter.value === 'string' &&
    !filter.path.schema &&
    !filter.path.valueFilter &&
    filter.path.names.length === 1 &&
    filter.path.names[0]!.toLowerCase() === 'username'
  ) {
    return filter.value;
  }
  return undefined;
}

/** The manager's email, when the enterprise extension's manager names a person the directory knows. */
async function managerOf(directory: DirectoryStore, input: UserInput): Promise<{ managerEmail?: string }> {
  if (!input.managerValue) return {};
  const manager = await directory.find(input.managerValue);
  return manager ? { managerEmail: manager.email } : {};
}

/** `startIndex` (1-based, at least 1) and `count` (0 to MAX_PAGE_SIZE); non-integers are a 400. */
function pageOf(request: FastifyRequest): { startIndex: number; count: number } {
  const query = request.query as Record<string, string | undefined>;
  const integer = (name: string, fallback: number): number => {
    const raw = query[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^-?\d+$/.test(raw.trim()))
      throw new ScimError(400, 'invalidValue', `${name} must be an integer, got "${raw}"`);
    return Number(raw);
  };
  return {
    startIndex: Math.max(1, integer('startIndex', 1)),
    count: Math.min(MAX_PAGE_SIZE, Math.max(0, integer('count', DEFAULT_PAGE_SIZE))),
  };
}

/** `attributes` / `excludedAttributes` on top-level names (Entra asks Groups with `excludedAttributes=members`). */
function project(resource: Json, query: Record<string, string | undefined>): Json {
  const names = (text: string | undefined) =>
    new Set(
      (text ?? '')
        .split(',')
        .map((name) => name.trim().toLowerCase().split('.')[0]!)
        .filter(Boolean),
    );
  const always = new Set(['id', 'schemas', 'meta']);
  const included = names(query.attributes);
  const excluded = names(query.excludedAttributes);
  if (included.size === 0 && excluded.size === 0) return resource;
  return Object.fromEntries(
    Object.entries(resource).filter(([key]) => {
      const lower = key.toLowerCase();
      if (always.has(lower)) return true;
      if (included.size > 0) return included.has(lower);
      return !excluded.has(lower);
    }),
  );
}

function toScimError(error: unknown): ScimError {
  if (error instanceof ScimError) return error;
  if (error instanceof DirectoryConflictError) return new ScimError(409, 'uniqueness', error.message);
  if (error instanceof UnknownMemberError) return new ScimError(400, 'invalidValue', error.message);
  const fastifyError = error as { statusCode?: number; code?: string };
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new ScimError(415, undefined, 'send application/scim+json or application/json');
  if (fastifyError.statusCode === 400 || fastifyError.code?.startsWith('FST_ERR_CTP'))
    return new ScimError(400, 'invalidSyntax', 'the request body cannot be read as JSON');
  if (fastifyError.statusCode === 413) return new ScimError(413, undefined, 'the request body is too large');
  return new ScimError(500, undefined, 'the SCIM request could not be completed; the server log has the cause');
}
