// `keyledger discover`: every credential each configured provider adapter can list, with what the provider says
// of it (creator, creation, last use, permissions), recorded as observations in the operational store. A provider
// whose listing completes marks the keys it no longer shows as gone; one that fails part-way marks nothing (a
// partial listing proves no absence) and is reported with its error, and the other providers go on. Where a listing
// leaves out last use but the adapter can tell it per key (AWS: ListAccessKeys has no dates of use,
// GetAccessKeyLastUsed has), each key the listing shows without one is asked, four at a time.

import type { Kysely } from 'kysely';
import type { DiscoveredKeysTable, OperationalSchema } from '../db/operational-schema.js';
import { writeTransaction } from '../db/write-transaction.js';
import type { Provider } from '../providers/provider.js';
import type { Clock } from '../runtime/clock.js';
import { type DiscoveryRunError, discoveryRunError } from './discovery-run-error.js';

export interface ProviderDiscovery {
  provider: string;
  listed: number;
  /** Keys not seen in any earlier discovery. */
  new: number;
  /** Keys an earlier discovery saw that this complete listing no longer shows. */
  gone: number;
  /** Why the listing stopped, with the provider's own message; absent when it completed. */
  error?: DiscoveryRunError;
  /** The adapter cannot list keys (no API for it): nothing to discover there. */
  unsupported?: boolean;
  /** Keys whose last use was asked for separately (the listing does not carry it). */
  lastUseLookups?: number;
  /** Some of those lookups failed: a key without a last use here may have been used (not "never used"). */
  lastUseIncomplete?: boolean;
  seconds: number;
}

export interface DiscoverKeysInput {
  providers: ReadonlyArray<{ name: string; provider: () => Provider }>;
  db: Kysely<OperationalSchema>;
  clock: Clock;
  /** Called per provider as its listing progresses (every 500 keys) and when it ends. */
  onProgress?: (provider: string, listed: number, done: boolean) => void;
}

const BATCH = 500;
const LAST_USE_CONCURRENCY = 4;

export async function discoverKeys(input: DiscoverKeysInput): Promise<ProviderDiscovery[]> {
  const results: ProviderDiscovery[] = [];
  for (const { name, provider: open } of input.providers) {
    const started = Date.now();
    const result: ProviderDiscovery = { provider: name, listed: 0, new: 0, gone: 0, seconds: 0 };
    try {
      const provider = open();
      if (!provider.capabilities().list) {
        result.unsupported = true;
        results.push({ ...result, seconds: (Date.now() - started) / 1000 });
        continue;
      }
      const runAt = input.clock().toISOString();
      const known = new Set(
        (
          await input.db.selectFrom('discovered_keys').select('provider_key_id').where('provider', '=', name).execute()
        ).map((row) => row.provider_key_id),
      );
      const seen = new Set<string>();
      const askLastUse = provider.capabilities().lastUsed === true;
      const withoutLastUse: Array<{ providerKeyId: string; account?: string }> = [];
      let batch: DiscoveredKeysTable[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        const rows = batch;
        batch = [];
        await input.db
          .insertInto('discovered_keys')
          .values(rows)
          .onConflict((conflict) =>
            conflict.columns(['provider', 'provider_key_id']).doUpdateSet((eb) => ({
              account: eb.ref('excluded.account'),
              name: eb.ref('excluded.name'),
              status: eb.ref('excluded.status'),
              created_at: eb.ref('excluded.created_at'),
              created_by: eb.ref('excluded.created_by'),
              last_used_at: eb.ref('excluded.last_used_at'),
              permissions: eb.ref('excluded.permissions'),
              last_seen_at: eb.ref('excluded.last_seen_at'),
              holder: eb.ref('excluded.holder'),
              gone_at: null,
            })),
          )
          .execute();
      };
      try {
        for await (const key of provider.list()) {
          if (seen.has(key.providerKeyId)) continue;
          seen.add(key.providerKeyId);
          if (!known.has(key.providerKeyId)) result.new += 1;
          if (askLastUse && !key.lastUsedAt)
            withoutLastUse.push({ providerKeyId: key.providerKeyId, ...(key.account ? { account: key.account } : {}) });
          batch.push({
            provider: name,
            provider_key_id: key.providerKeyId,
            account: key.account ?? null,
            name: key.name ?? null,
            status: key.status,
            created_at: key.createdAt?.toISOString() ?? null,
            created_by: key.createdBy ?? null,
            last_used_at: key.lastUsedAt?.toISOString() ?? null,
            permissions: key.permissions ? JSON.stringify(key.permissions) : null,
            holder: key.holder ?? null,
            first_seen_at: runAt,
            last_seen_at: runAt,
            gone_at: null,
          });
          result.listed += 1;
          if (batch.length >= BATCH) {
            await flush();
            input.onProgress?.(name, result.listed, false);
          }
        }
        await flush();
      } catch (error) {
        await flush();
        throw error;
      }
      if (withoutLastUse.length > 0) {
        result.lastUseLookups = withoutLastUse.length;
        let next = 0;
        const worker = async () => {
          while (next < withoutLastUse.length) {
            const ref = withoutLastUse[next++]!;
            try {
              const used = await provider.lastUsed(ref);
              if (used.at)
                await input.db
                  .updateTable('discovered_keys')
                  .set({ last_used_at: used.at.toISOString() })
                  .where('provider', '=', name)
                  .where('provider_key_id', '=', ref.providerKeyId)
                  .execute();
            } catch {
              result.lastUseIncomplete = true;
            }
          }
        };
        await Promise.all(Array.from({ length: LAST_USE_CONCURRENCY }, worker));
      }
      // The listing completed: whatever it did not show is gone.
      const missing = [...known].filter((id) => !seen.has(id));
      await writeTransaction(input.db, async (trx) => {
        for (let i = 0; i < missing.length; i += BATCH) {
          const updated = await trx
            .updateTable('discovered_keys')
            .set({ gone_at: runAt })
            .where('provider', '=', name)
            .where('provider_key_id', 'in', missing.slice(i, i + BATCH))
            .where('gone_at', 'is', null)
            .executeTakeFirst();
          result.gone += Number(updated.numUpdatedRows);
        }
      });
    } catch (error) {
      result.error = discoveryRunError(error, 'E_DISCOVERY');
    }
    result.seconds = (Date.now() - started) / 1000;
    input.onProgress?.(name, result.listed, true);
    results.push(result);
  }
  return results;
}

/** Every key discovery has seen and not seen go, for classification. */
export async function discoveredKeys(db: Kysely<OperationalSchema>, options: { includeGone?: boolean } = {}) {
  let query = db.selectFrom('discovered_keys').selectAll();
  if (!options.includeGone) query = query.where('gone_at', 'is', null);
  return query.orderBy('provider').orderBy('provider_key_id').execute();
}
