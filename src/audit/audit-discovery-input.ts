// What the quarterly audit takes from the latest discovery (`keyledger discover`, key-discovery.ts), read back from
// the operational store: the live keys providers list that no registry entry names, the registered keys a completed
// listing no longer showed, and each key's holder. The CLI's `audit` and the dashboard's audit page read the same.
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import type { PeopleDirectory } from '../directory/people-directory.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import type { AuditUsageStore } from './audit-usage-store.js';
import { type ClassifiedKey, classifyUnregisteredKeys } from './drift-classification.js';
import { discoveredKeys } from './key-discovery.js';

export interface AuditDiscoveryInput {
  unregisteredListed: ClassifiedKey[];
  goneAtProvider: Map<string, string>;
  holders: Map<string, string>;
}

export async function readAuditDiscoveryInput(input: {
  db: Kysely<OperationalSchema>;
  usage: AuditUsageStore;
  entries: readonly KeyEntry[];
  people?: PeopleDirectory;
  asOf: Date;
  isBroadPermission: (permission: string) => boolean;
}): Promise<AuditDiscoveryInput> {
  const rows = await discoveredKeys(input.db, { includeGone: true });
  const live = rows.filter((row) => row.gone_at === null);
  const goneAtProvider = new Map<string, string>();
  const holders = new Map<string, string>();
  for (const row of rows) {
    const slot = `${row.provider}\u0000${row.provider_key_id}`;
    if (row.gone_at !== null) goneAtProvider.set(slot, row.gone_at);
    else if (row.holder) holders.set(slot, row.holder);
  }
  if (live.length === 0) return { unregisteredListed: [], goneAtProvider, holders };
  // Only the unregistered keys are classified: which listings completed and which report last use are facts of a
  // discovery run, not kept, so the classes that need them (registered-gone, never-used) come from `gone_at` above
  // and from the audit's own use checks; the entries' own classes are the audit's.
  const unregisteredListed = classifyUnregisteredKeys({
    entries: input.entries,
    discovered: live,
    completeProviders: new Set(),
    lastUseReported: new Set(),
    ...(input.people ? { people: input.people } : {}),
    asOf: input.asOf,
    isBroadPermission: input.isBroadPermission,
    callerTeams: await input.usage.teamsOfUnregisteredCredentials(),
  });
  return { unregisteredListed, goneAtProvider, holders };
}
