// What the quarterly audit takes from the latest discovery (`keyledger discover`, key-discovery.ts), read back from
// the operational store: the live keys providers list that no registry entry names, the registered keys a completed
// listing no longer showed, and each key's holder. The CLI's `audit` and the dashboard's audit page read the same.
import type { Kysely } from 'kysely';
import type { DiscoveredKeysTable, OperationalSchema } from '../db/operational-schema.js';
import type { PeopleDirectory } from '../directory/people-directory.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import type { AuditUsageStore } from './audit-usage-store.js';
import { type ClassifiedKey, classifyUnregisteredKeys, keysNamedByEntries } from './drift-classification.js';

export interface AuditDiscoveryInput {
  unregisteredListed: ClassifiedKey[];
  goneAtProvider: Map<string, string>;
  holders: Map<string, string>;
}

/** Ids per statement when the unregistered keys' rows are read (well under either engine's bound-parameter limit). */
const ROWS_BATCH = 500;

export async function readAuditDiscoveryInput(input: {
  db: Kysely<OperationalSchema>;
  usage: AuditUsageStore;
  entries: readonly KeyEntry[];
  people?: PeopleDirectory;
  asOf: Date;
  isBroadPermission: (permission: string) => boolean;
}): Promise<AuditDiscoveryInput> {
  // Of every discovered key only its id, whether it is gone and its holder: most keys are registered, and whole rows
  // for all of them (~100,000 on the bench, thirteen columns each) were most of this read's time. Whole rows are
  // read afterwards for the live keys no entry names, the only ones classified.
  const slots = await input.db
    .selectFrom('discovered_keys')
    .select(['provider', 'provider_key_id', 'gone_at', 'holder'])
    .execute();
  const named = keysNamedByEntries(input.entries);
  const goneAtProvider = new Map<string, string>();
  const holders = new Map<string, string>();
  const unnamed = new Map<string, string[]>();
  for (const row of slots) {
    const slot = `${row.provider}\u0000${row.provider_key_id}`;
    if (row.gone_at !== null) {
      goneAtProvider.set(slot, row.gone_at);
      continue;
    }
    if (row.holder) holders.set(slot, row.holder);
    if (named.get(row.provider)?.has(row.provider_key_id)) continue;
    const ofProvider = unnamed.get(row.provider);
    if (ofProvider) ofProvider.push(row.provider_key_id);
    else unnamed.set(row.provider, [row.provider_key_id]);
  }
  if (unnamed.size === 0) return { unregisteredListed: [], goneAtProvider, holders };
  // Only the unregistered keys are classified: which listings completed and which report last use are facts of a
  // discovery run, not kept, so the classes that need them (registered-gone, never-used) come from `gone_at` above
  // and from the audit's own use checks; the entries' own classes are the audit's. The rows are those no entry
  // names already, so no entries are passed.
  const unregisteredListed = classifyUnregisteredKeys({
    entries: [],
    discovered: await liveRowsOf(input.db, unnamed),
    completeProviders: new Set(),
    lastUseReported: new Set(),
    ...(input.people ? { people: input.people } : {}),
    asOf: input.asOf,
    isBroadPermission: input.isBroadPermission,
    callerTeams: await input.usage.teamsOfUnregisteredCredentials(),
  });
  return { unregisteredListed, goneAtProvider, holders };
}

/** The whole rows of these live keys (provider -> ids), in no particular order (the classification sorts). */
async function liveRowsOf(
  db: Kysely<OperationalSchema>,
  ids: ReadonlyMap<string, readonly string[]>,
): Promise<DiscoveredKeysTable[]> {
  const rows: DiscoveredKeysTable[] = [];
  for (const [provider, ofProvider] of ids) {
    for (let i = 0; i < ofProvider.length; i += ROWS_BATCH) {
      rows.push(
        ...(await db
          .selectFrom('discovered_keys')
          .selectAll()
          .where('provider', '=', provider)
          .where('provider_key_id', 'in', ofProvider.slice(i, i + ROWS_BATCH))
          .where('gone_at', 'is', null)
          .execute()),
      );
    }
  }
  return rows;
}
