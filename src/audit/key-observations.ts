// `keyledger discover --source NAME`: runs one discovery source (src/discovery-sources/) and records what it saw in
// `key_observations`, each secret matched to its registry entry: by keyed fingerprint when the source reads values
// (the value goes through `matchSecret` and is dropped), by store path when the source is a secret store. As with
// provider discovery (key-discovery.ts), a complete run marks what the same source and scope showed before and no
// longer shows as gone; a run that fails part-way marks nothing.

import type { Kysely } from 'kysely';
import type { KeyObservationsTable, OperationalSchema } from '../db/operational-schema.js';
import { writeTransaction } from '../db/write-transaction.js';
import type { DiscoverySource, SecretObservation } from '../discovery-sources/discovery-source.js';
import { entryStorageRef, type KeyEntry } from '../registry/key-entry-schema.js';
import type { Clock } from '../runtime/clock.js';
import { type FingerprintKey, fingerprintDigest, fingerprintSecret } from '../secrets/secret-fingerprint.js';
import { type DiscoveryRunError, discoveryRunError } from './discovery-run-error.js';

export interface SourceObservationResult {
  source: string;
  scope: string;
  observed: number;
  /** Observations tied to a registry entry (by fingerprint or store path). */
  matched: number;
  new: number;
  gone: number;
  error?: DiscoveryRunError;
  seconds: number;
}

export interface ObserveSourceInput {
  source: DiscoverySource;
  options: Readonly<Record<string, string>>;
  env: NodeJS.ProcessEnv;
  entries: readonly KeyEntry[];
  fingerprintKey: FingerprintKey;
  db: Kysely<OperationalSchema>;
  clock: Clock;
}

const BATCH = 500;

/** The options that say which place was read: everything but where the token came from. */
export function observationScope(options: Readonly<Record<string, string>>): string {
  return Object.keys(options)
    .filter((name) => name !== 'token-env')
    .sort()
    .map((name) => `${name}=${options[name]}`)
    .join(' ');
}

/** key_id by fingerprint digest and by store path, built once per run from the registry. */
export class ObservationMatcher {
  readonly #byDigest = new Map<string, string>();
  readonly #byStorePath = new Map<string, string>();
  readonly #key: FingerprintKey;

  constructor(entries: readonly KeyEntry[], key: FingerprintKey) {
    this.#key = key;
    for (const entry of entries) {
      if (entry.fingerprint) this.#byDigest.set(fingerprintDigest(entry.fingerprint), entry.key_id);
      const storage = entryStorageRef(entry);
      if (storage) this.#byStorePath.set(normalisePath(storage.path), entry.key_id);
    }
  }

  bySecret(material: string): string | undefined {
    if (material === '') return undefined;
    return this.#byDigest.get(fingerprintDigest(fingerprintSecret(material, this.#key)));
  }

  byStorePath(path: string): string | undefined {
    return this.#byStorePath.get(normalisePath(path));
  }
}

function normalisePath(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

export async function observeSource(input: ObserveSourceInput): Promise<SourceObservationResult> {
  const started = Date.now();
  const name = input.source.name;
  const scope = observationScope(input.options);
  const result: SourceObservationResult = { source: name, scope, observed: 0, matched: 0, new: 0, gone: 0, seconds: 0 };
  const matcher = new ObservationMatcher(input.entries, input.fingerprintKey);
  const runAt = input.clock().toISOString();
  const slot = (location: string, observed: string) => `${location}\u0000${observed}`;
  try {
    const known = new Set(
      (
        await input.db
          .selectFrom('key_observations')
          .select(['location', 'name'])
          .where('source', '=', name)
          .where('scope', '=', scope)
          .execute()
      ).map((row) => slot(row.location, row.name)),
    );
    const seen = new Set<string>();
    let batch: KeyObservationsTable[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const rows = batch;
      batch = [];
      await input.db
        .insertInto('key_observations')
        .values(rows)
        .onConflict((conflict) =>
          conflict.columns(['source', 'scope', 'location', 'name']).doUpdateSet((eb) => ({
            key_id: eb.ref('excluded.key_id'),
            provider: eb.ref('excluded.provider'),
            provider_key_id: eb.ref('excluded.provider_key_id'),
            principal: eb.ref('excluded.principal'),
            created_at: eb.ref('excluded.created_at'),
            updated_at: eb.ref('excluded.updated_at'),
            last_used_at: eb.ref('excluded.last_used_at'),
            detail: eb.ref('excluded.detail'),
            last_seen_at: eb.ref('excluded.last_seen_at'),
            gone_at: null,
          })),
        )
        .execute();
    };
    const context = { options: input.options, env: input.env, matchSecret: (m: string) => matcher.bySecret(m) };
    try {
      for await (const observation of input.source.observe(context)) {
        const at = slot(observation.location, observation.name);
        if (seen.has(at)) continue;
        seen.add(at);
        if (!known.has(at)) result.new += 1;
        const row = observationRow(name, scope, observation, matcher, runAt);
        if (row.key_id) result.matched += 1;
        batch.push(row);
        result.observed += 1;
        if (batch.length >= BATCH) await flush();
      }
      await flush();
    } catch (error) {
      await flush();
      throw error;
    }
    const missing = [...known].filter((at) => !seen.has(at));
    await writeTransaction(input.db, async (trx) => {
      for (const at of missing) {
        const [location, observed] = at.split('\u0000') as [string, string];
        const updated = await trx
          .updateTable('key_observations')
          .set({ gone_at: runAt })
          .where('source', '=', name)
          .where('scope', '=', scope)
          .where('location', '=', location)
          .where('name', '=', observed)
          .where('gone_at', 'is', null)
          .executeTakeFirst();
        result.gone += Number(updated.numUpdatedRows);
      }
    });
  } catch (error) {
    result.error = discoveryRunError(error, 'E_DISCOVERY_SOURCE');
  }
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

function observationRow(
  source: string,
  scope: string,
  observation: SecretObservation,
  matcher: ObservationMatcher,
  runAt: string,
): KeyObservationsTable {
  const keyId =
    observation.keyId ?? (observation.storePath !== undefined ? matcher.byStorePath(observation.storePath) : undefined);
  return {
    source,
    scope,
    location: observation.location,
    name: observation.name,
    key_id: keyId ?? null,
    provider: observation.provider ?? null,
    provider_key_id: observation.providerKeyId ?? null,
    principal: observation.principal ?? null,
    created_at: observation.createdAt ?? null,
    updated_at: observation.updatedAt ?? null,
    last_used_at: observation.lastUsedAt ?? null,
    detail: observation.detail ? JSON.stringify(observation.detail) : null,
    first_seen_at: runAt,
    last_seen_at: runAt,
    gone_at: null,
  };
}

/** Every observation not gone, for `discover --json` and the audit. */
export async function keyObservations(db: Kysely<OperationalSchema>, source?: string) {
  let query = db.selectFrom('key_observations').selectAll().where('gone_at', 'is', null);
  if (source) query = query.where('source', '=', source);
  return query.orderBy('source').orderBy('location').orderBy('name').execute();
}
