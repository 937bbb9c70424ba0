// /keys: list (filters, cursor pagination), show, issue, rotate, revoke, history — over the same services as the
// CLI (src/lifecycle/). Reads come from the key index (key-index.ts); every write goes through the issuer, the
// rotator or the revoker as the principal's actor, and is followed by a refresh so the caller reads its write.
import type { FastifyRequest } from 'fastify';
import { NotFoundError } from '../../errors/keyledger-error.js';
import type { LoggedEvent } from '../../events/event-log.js';
import type { RotationRow } from '../../lifecycle/rotation/rotation-journal.js';
import { entryPurpose, type KeyEntry } from '../../registry/key-entry-schema.js';
import type { LoadedEntry } from '../../registry/registry-loader.js';
import { type EntryFilter, entryFacts, matchesFilter } from '../../registry/registry-query.js';
import { canActOnKey, canReadKey, hasRole, type Principal } from '../access.js';
import { actorOf } from '../auth/access-denials.js';
import { HttpProblem } from '../problem-details.js';
import { type ApiRoute, defineRoute, etagOf, requireIfMatch } from './api-route.js';
import {
  eventPageResponse,
  historyQuery,
  issuedKeyResponse,
  issueKeyBody,
  keyIdParams,
  keyListQuery,
  keyListResponse,
  keyResponse,
  revokedKeyResponse,
  revokeKeyBody,
  rotationStartedResponse,
} from './api-schemas.js';
import type { ApiServices } from './api-services.js';
import { type KeyIndexSnapshot, mergeSortedEntries } from './key-index.js';

export function ownershipOf(entry: KeyEntry) {
  return { team: entry.owner_team, individual: entry.owner_individual };
}

/** The key's entity tag: its registry entry (not the computed facts, which move with the clock). */
export function keyEtag(loaded: LoadedEntry): string {
  return etagOf({ file: loaded.file, entry: loaded.entry });
}

export function encodeCursor(keyId: string): string {
  return Buffer.from(keyId, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const keyId = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!keyId || encodeCursor(keyId) !== cursor)
    throw new HttpProblem(400, 'E_INVALID_CURSOR', 'the cursor is not one this API gave out');
  return keyId;
}

/** First index whose key_id sorts after `keyId` (the entries are sorted by key_id in code-unit order). */
function indexAfter(entries: readonly LoadedEntry[], keyId: string): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (entries[middle]!.entry.key_id <= keyId) low = middle + 1;
    else high = middle;
  }
  return low;
}

function matchesText(entry: KeyEntry, text: string): boolean {
  const needle = text.toLowerCase();
  return [entry.key_id, entryPurpose(entry), entry.owner_individual, entry.owner_team].some((field) =>
    field?.toLowerCase().includes(needle),
  );
}

export function eventJson(event: LoggedEvent) {
  return {
    seq: event.seq,
    id: event.id,
    at: event.at,
    type: event.type,
    actor: event.actor,
    key_id: event.keyId,
    data: event.data,
  };
}

export function rotationJson(row: RotationRow) {
  return {
    rotation_id: row.rotation_id,
    key_id: row.key_id,
    provider: row.provider,
    trigger: row.trigger,
    state: row.state,
    attempts: row.attempts,
    failure: row.failure,
    rollback_reason: row.rollback_reason,
    not_before: row.not_before,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/**
 * The sorted entries a list request can match at most, from the index's groups: a team filter reads that team's
 * entries, an owner filter that person's, a member the teams they are in and the keys naming them; only the
 * security role and admins walk every entry. Access and the other filters are still checked on each.
 */
export function candidatesFor(
  snapshot: KeyIndexSnapshot,
  principal: Principal,
  query: { team?: string | undefined; owner?: string | undefined },
): readonly LoadedEntry[] {
  if (query.team !== undefined) return snapshot.byTeam.get(query.team) ?? [];
  if (query.owner !== undefined) return snapshot.byOwner.get(query.owner.toLowerCase()) ?? [];
  if (hasRole(principal, 'security')) return snapshot.entries;
  return mergeSortedEntries([
    ...principal.teams.map((team) => snapshot.byTeam.get(team) ?? []),
    principal.email ? (snapshot.byOwner.get(principal.email.toLowerCase()) ?? []) : [],
  ]);
}

export function keyRoutes(services: ApiServices): ApiRoute[] {
  const { app, clock, index, denials } = services;

  /** The entry a request names, if the principal may read it: 404 when missing, 403 (and an event) when not. */
  const readable = async (request: FastifyRequest, principal: Principal, keyId: string): Promise<LoadedEntry> => {
    const loaded = (await index.current()).byId.get(keyId);
    if (!loaded) throw new NotFoundError('E_KEY_NOT_FOUND', `no registry entry with key_id "${keyId}"`);
    if (!canReadKey(principal, ownershipOf(loaded.entry))) {
      await denials.record(request, principal, 'key of another team', keyId);
      throw new HttpProblem(403, 'E_FORBIDDEN', `${keyId} belongs to a team you are not in`);
    }
    return loaded;
  };

  /** As `readable`, for a write: the principal may act on it and If-Match names its current version. */
  const actionable = async (request: FastifyRequest, principal: Principal, keyId: string): Promise<LoadedEntry> => {
    const loaded = await readable(request, principal, keyId);
    if (!canActOnKey(principal, ownershipOf(loaded.entry))) {
      await denials.record(request, principal, 'not allowed to act on the key', keyId);
      throw new HttpProblem(403, 'E_FORBIDDEN', `you may read ${keyId} but not change it`);
    }
    requireIfMatch(request, keyEtag(loaded), { kind: 'key', id: keyId });
    return loaded;
  };

  return [
    defineRoute({
      method: 'GET',
      path: '/keys',
      operationId: 'listKeys',
      summary: 'List registry entries the caller may see, filtered, a page at a time (sorted by key_id)',
      tag: 'keys',
      scope: 'keys:read',
      query: keyListQuery,
      response: keyListResponse,
      handler: async ({ query, principal }) => {
        const entries = candidatesFor(await index.current(), principal, query);
        const now = clock();
        const filter: EntryFilter = {
          ...(query.team ? { team: query.team } : {}),
          ...(query.provider ? { provider: query.provider } : {}),
          ...(query.status ? { status: query.status } : {}),
          ...(query.owner ? { owner: query.owner } : {}),
          ...(query.due === 'overdue' ? { rotationOverdue: true } : {}),
          ...(query.due === 'expiring' ? { expiringWithinDays: query.within_days } : {}),
        };
        const items = [];
        let next: string | null = null;
        for (let i = query.cursor ? indexAfter(entries, decodeCursor(query.cursor)) : 0; i < entries.length; i++) {
          const { entry } = entries[i]!;
          if (!canReadKey(principal, ownershipOf(entry))) continue;
          if (!matchesFilter(entry, filter, now)) continue;
          if (query.text && !matchesText(entry, query.text)) continue;
          if (items.length === query.limit) {
            next = encodeCursor(items.at(-1)!.key_id);
            break;
          }
          items.push({
            key_id: entry.key_id,
            ...(entry.scope?.provider ? { provider: entry.scope.provider } : {}),
            ...(entry.owner_team ? { owner_team: entry.owner_team } : {}),
            ...(entry.owner_individual ? { owner_individual: entry.owner_individual } : {}),
            status: entry.status,
            ...(entryPurpose(entry) ? { purpose: entryPurpose(entry) } : {}),
            ...(entry.expiration ? { expiration: String(entry.expiration) } : {}),
            ...(entry.last_rotated ? { last_rotated: String(entry.last_rotated) } : {}),
            facts: entryFacts(entry, now),
          });
        }
        return { body: { items, next_cursor: next } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/keys/:keyId',
      operationId: 'getKey',
      summary: 'One registry entry with its computed facts; the ETag is what If-Match names on writes',
      tag: 'keys',
      scope: 'keys:read',
      params: keyIdParams,
      response: keyResponse,
      handler: async ({ params, principal, request }) => {
        const loaded = await readable(request, principal, params.keyId);
        return {
          body: { file: loaded.file, entry: loaded.entry, facts: entryFacts(loaded.entry, clock()) },
          etag: keyEtag(loaded),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/keys/:keyId/history',
      operationId: 'getKeyHistory',
      summary: "The key's events, newest first",
      tag: 'keys',
      scope: 'keys:read',
      params: keyIdParams,
      query: historyQuery,
      response: eventPageResponse,
      handler: async ({ params, query, principal, request }) => {
        await readable(request, principal, params.keyId);
        const events = await app.events.list({
          keyId: params.keyId,
          order: 'desc',
          limit: query.limit + 1,
          ...(query.cursor ? { beforeSeq: Number(query.cursor) } : {}),
        });
        const page = events.slice(0, query.limit);
        return {
          body: {
            items: page.map(eventJson),
            next_cursor: events.length > query.limit ? String(page.at(-1)!.seq) : null,
          },
        };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/keys',
      operationId: 'issueKey',
      summary: 'Issue a key: mint, store, register and log it as one unit (Idempotency-Key header honoured)',
      tag: 'keys',
      scope: 'keys:write',
      body: issueKeyBody,
      response: issuedKeyResponse,
      status: 201,
      handler: async ({ body, principal, request }) => {
        if (!canActOnKey(principal, { team: body.team })) {
          await denials.record(request, principal, `issue for team ${body.team}`);
          throw new HttpProblem(403, 'E_FORBIDDEN', `you may not issue keys for team ${body.team}`);
        }
        const idempotencyKey = request.headers['idempotency-key'];
        const issued = await app.issuer().issue({
          provider: body.provider,
          team: body.team,
          owner: body.owner,
          purpose: body.purpose,
          permissions: body.permissions,
          ...(body.account ? { account: body.account } : {}),
          ...(body.expires_in_days ? { expiresInDays: body.expires_in_days } : {}),
          ...(body.rotation_frequency_days ? { rotationFrequencyDays: body.rotation_frequency_days } : {}),
          ...(body.tags ? { tags: body.tags } : {}),
          ...(body.justification ? { justification: body.justification } : {}),
          ...(body.key_id ? { keyId: body.key_id } : {}),
          ...(typeof idempotencyKey === 'string' && idempotencyKey ? { idempotencyKey } : {}),
          actor: actorOf(principal),
        });
        const loaded = (await index.current({ force: true })).byId.get(issued.keyId);
        return {
          status: 201,
          location: `${request.routeOptions.url?.replace(/\/keys$/, '') ?? ''}/keys/${encodeURIComponent(issued.keyId)}`,
          ...(loaded ? { etag: keyEtag(loaded) } : {}),
          body: {
            key_id: issued.keyId,
            provider: issued.provider,
            provider_key_id: issued.providerKeyId,
            store: issued.store,
            path: issued.path,
            file: issued.file,
            commit: issued.commit,
            fingerprint: issued.fingerprint,
            expires_at: issued.expiresAt,
            replayed: issued.replayed,
          },
        };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/keys/:keyId/rotations',
      operationId: 'rotateKey',
      summary: 'Start rotating a key (202): planned now, driven in the background; follow it at /rotations/{id}',
      tag: 'keys',
      scope: 'keys:write',
      params: keyIdParams,
      response: rotationStartedResponse,
      status: 202,
      ifMatch: 'key',
      handler: async ({ params, principal, request }) => {
        await actionable(request, principal, params.keyId);
        const { row, created } = await services.rotations.start(params.keyId, actorOf(principal));
        return {
          status: 202,
          location: `/api/v1/rotations/${row.rotation_id}`,
          body: { rotation: rotationJson(row), created },
        };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/keys/:keyId/revocation',
      operationId: 'revokeKey',
      summary: 'Revoke a key at its provider, delete its secret (unless kept) and mark the entry revoked',
      tag: 'keys',
      scope: 'keys:write',
      params: keyIdParams,
      body: revokeKeyBody,
      response: revokedKeyResponse,
      ifMatch: 'key',
      handler: async ({ params, body, principal, request }) => {
        await actionable(request, principal, params.keyId);
        const revoked = await app.revoker().revoke({
          keyId: params.keyId,
          actor: actorOf(principal),
          reason: body.reason,
          keepSecret: body.keep_secret,
        });
        const loaded = (await index.current({ force: true })).byId.get(params.keyId);
        return {
          ...(loaded ? { etag: keyEtag(loaded) } : {}),
          body: {
            key_id: revoked.keyId,
            provider: revoked.provider,
            steps: revoked.steps,
            ...(revoked.commit ? { commit: revoked.commit } : {}),
            revocation_id: revoked.revocationId,
            resumed: revoked.resumed,
          },
        };
      },
    }),
  ];
}
