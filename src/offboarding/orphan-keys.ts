// The orphaned-keys brief's three shapes (docs/offboarding.md, "Orphans"), each reported with the owner the key
// should have: (1) personal cloud keys of leavers — a key live at a provider under a departed person's own user;
// (2) "temporary" integrations nobody on the current team created — a key made by someone who has left, still in
// use; (3) shared keys passed around by password — one secret consumed by several teams (its `consumed_by`, or the
// audit logs showing callers from several teams). Read from the registry, discovery (`discovered_keys`) and usage
// (`audit_usage`); nothing is changed.
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import type { DirectoryPerson } from '../directory/identity-source.js';
import type { Consumer } from '../registry/key-entry-schema.js';
import type { LoadedEntry } from '../registry/registry-loader.js';
import { personNames } from './leaver-keys.js';
import type { SharedOwnerPolicy } from './shared-owner.js';

export type OrphanShape = 'personal-key-of-leaver' | 'integration-creator-left' | 'shared-between-teams';

export interface OrphanKey {
  shape: OrphanShape;
  provider: string;
  /** The registry's key id, or the provider's id of a key the registry does not know. */
  key: string;
  registered: boolean;
  /** Whom the registry names (if anyone). */
  owner?: string;
  /** Whom it should be: the team's shared owner. */
  shouldBeOwnedBy: string;
  team: string;
  because: string;
}

export interface OrphanInput {
  entries: readonly LoadedEntry[];
  discovered: ReadonlyArray<{
    provider: string;
    provider_key_id: string;
    account: string | null;
    status: string;
    created_by: string | null;
    last_used_at: string | null;
    gone_at: string | null;
  }>;
  /** Per registry key id: the teams the audit logs saw calling with it, and its last use. */
  usage: ReadonlyMap<string, { teams: Set<string>; lastAt: string }>;
  people: readonly DirectoryPerson[];
  sharedOwners: SharedOwnerPolicy;
  now: Date;
  /** A key used within this many days is "still in use" (default 30). */
  inUseDays?: number;
}

export function detectOrphans(input: OrphanInput): OrphanKey[] {
  const gone = input.people.filter((person) => person.status !== 'active');
  const teams = new Set(input.people.map((person) => person.team).filter((team): team is string => Boolean(team)));
  const leaverByName = new Map<string, DirectoryPerson>();
  for (const person of gone) for (const name of personNames(person)) leaverByName.set(name, person);
  const inUseSince = input.now.getTime() - (input.inUseDays ?? 30) * 86_400_000;
  const byProviderKey = new Map(
    input.entries.flatMap(({ entry }) =>
      entry.provider_key_id ? [[`${entry.scope?.provider}\u0000${entry.provider_key_id}`, entry] as const] : [],
    ),
  );
  const found: OrphanKey[] = [];
  const seen = new Set<string>();
  const add = (orphan: OrphanKey) => {
    const id = `${orphan.shape}\u0000${orphan.provider}\u0000${orphan.key}`;
    if (seen.has(id)) return;
    seen.add(id);
    found.push(orphan);
  };
  const leaverOfAccount = (account: string | null | undefined) => {
    if (!account) return undefined;
    const lower = account.toLowerCase();
    return leaverByName.get(lower) ?? leaverByName.get(lower.replace(/-\d+$/, ''));
  };

  for (const row of input.discovered) {
    if (row.gone_at || row.status !== 'active') continue;
    const entry = byProviderKey.get(`${row.provider}\u0000${row.provider_key_id}`);
    const key = entry?.key_id ?? row.provider_key_id;
    const holder = leaverOfAccount(row.account);
    if (holder) {
      const team = entry?.owner_team ?? holder.team ?? 'unassigned';
      add({
        shape: 'personal-key-of-leaver',
        provider: row.provider,
        key,
        registered: Boolean(entry),
        ...(entry?.owner_individual ? { owner: entry.owner_individual } : {}),
        shouldBeOwnedBy: input.sharedOwners.ownerFor(team, holder.email),
        team,
        because: `live under ${holder.email}'s own ${row.provider} user ${row.account}, who is ${holder.status}`,
      });
    }
    const creator = row.created_by ? leaverByName.get(row.created_by.toLowerCase()) : undefined;
    const lastUsed = Math.max(
      row.last_used_at ? Date.parse(row.last_used_at) : 0,
      entry ? Date.parse(input.usage.get(entry.key_id)?.lastAt ?? '') || 0 : 0,
    );
    if (creator && lastUsed >= inUseSince) {
      const team = entry?.owner_team ?? creator.team ?? 'unassigned';
      add({
        shape: 'integration-creator-left',
        provider: row.provider,
        key,
        registered: Boolean(entry),
        ...(entry?.owner_individual ? { owner: entry.owner_individual } : {}),
        shouldBeOwnedBy: input.sharedOwners.ownerFor(team, creator.email),
        team,
        because: `created by ${creator.email} (${creator.status}), used ${new Date(lastUsed).toISOString().slice(0, 10)}`,
      });
    }
  }

  for (const { entry } of input.entries) {
    if (entry.status === 'revoked' || entry.status === 'retired') continue;
    const holder = leaverOfAccount(entry.scope?.account_id);
    const team = entry.owner_team ?? holder?.team ?? 'unassigned';
    if (holder)
      add({
        shape: 'personal-key-of-leaver',
        provider: entry.scope?.provider ?? '',
        key: entry.key_id,
        registered: true,
        ...(entry.owner_individual ? { owner: entry.owner_individual } : {}),
        shouldBeOwnedBy: input.sharedOwners.ownerFor(team, holder.email),
        team,
        because: `held by ${holder.email}'s own ${entry.scope?.provider} user ${entry.scope?.account_id}, who is ${holder.status}`,
      });
    const consumingTeams = new Set([
      ...(entry.consumed_by ?? []).flatMap((consumer) => teamsOf(consumer, teams)),
      ...(input.usage.get(entry.key_id)?.teams ?? []),
    ]);
    if (consumingTeams.size > 1) {
      const domain = entry.owner_individual?.split('@')[1] ?? gone[0]?.email.split('@')[1] ?? 'localhost';
      add({
        shape: 'shared-between-teams',
        provider: entry.scope?.provider ?? '',
        key: entry.key_id,
        registered: true,
        ...(entry.owner_individual ? { owner: entry.owner_individual } : {}),
        shouldBeOwnedBy: input.sharedOwners.ownerFor(team, `x@${domain}`),
        team,
        because: `one secret consumed by ${[...consumingTeams].sort().join(', ')}: split it, one key per team`,
      });
    }
  }
  return found.sort((a, b) => a.shape.localeCompare(b.shape) || a.key.localeCompare(b.key));
}

function teamsOf(consumer: Consumer, teams: ReadonlySet<string>): string[] {
  if (typeof consumer === 'string') return teams.has(consumer) ? [consumer] : [];
  return consumer.team ? [consumer.team] : [];
}

/** Discovery's keys and audit usage per key from the operational store, for detectOrphans. */
export async function readOrphanEvidence(
  db: Kysely<OperationalSchema>,
): Promise<Pick<OrphanInput, 'discovered' | 'usage'>> {
  const discovered = await db
    .selectFrom('discovered_keys')
    .select(['provider', 'provider_key_id', 'account', 'status', 'created_by', 'last_used_at', 'gone_at'])
    .where('gone_at', 'is', null)
    .execute();
  // One row per key and team, grouped by the database (audit_usage holds a row per key, day, source and caller: a
  // million at the scale of docs/benchmarks.md). The last use is the last use *while the credential was the entry's
  // current one* (migration 0024): a rotated-out or revoked credential still in use is a stolen-key signal, not a
  // sign that the key is in use (the same rule as the audit's last use, src/audit/audit-usage-store.ts).
  const rows = await db
    .selectFrom('audit_usage')
    .select(['key_id', 'source_team', (eb) => eb.fn.max('last_current_at').as('last_current_at')])
    .where('key_id', 'is not', null)
    .groupBy(['key_id', 'source_team'])
    .execute();
  const usage = new Map<string, { teams: Set<string>; lastAt: string }>();
  for (const row of rows) {
    const slot = usage.get(row.key_id!) ?? { teams: new Set<string>(), lastAt: '' };
    if (row.source_team) slot.teams.add(row.source_team);
    const last = row.last_current_at === null ? '' : String(row.last_current_at);
    if (last > slot.lastAt) slot.lastAt = last;
    usage.set(row.key_id!, slot);
  }
  return { discovered, usage };
}
