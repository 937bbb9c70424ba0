// Finds every key a leaver is tied to (docs/offboarding.md, "What is found"): the entries that name them as
// `owner_individual`; the keys a provider says they created (discovery's `created_by`, src/audit/key-discovery.ts);
// the keys they used themselves (audit usage naming them as the caller, or a `consumed_by` naming them); and, among
// those, their personal credentials (a key held by their own user at the provider: `scope.account_id` is their login).
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import type { DirectoryPerson } from '../directory/identity-source.js';
import type { Consumer, KeyEntry } from '../registry/key-entry-schema.js';
import type { LoadedEntry } from '../registry/registry-loader.js';

export type LeaverTie = 'owner' | 'creator' | 'consumer' | 'personal-credential';

export interface LeaverKey {
  keyId: string;
  provider: string;
  /** The team the key passes to: the entry's `owner_team`, else the leaver's team. */
  team: string;
  ties: LeaverTie[];
  /** Why, in words, one line per tie. */
  because: string[];
  /** Consumers other than the leaver (what a disable must not break). */
  otherConsumers: string[];
}

/** What the operational store knows about who made and who used keys, by the person's names. */
export interface LeaverEvidence {
  /** (provider, provider key id) of keys a provider listed as created by the person. */
  created: Array<{ provider: string; providerKeyId: string }>;
  /** Registry key ids the audit logs show the person calling with. */
  used: string[];
}

/** The names a person goes by at providers: their email, and its local part (a login, an IAM user name). */
export function personNames(person: Pick<DirectoryPerson, 'email' | 'userName'>): string[] {
  const email = person.email.toLowerCase();
  const names = new Set([email, email.split('@')[0]!]);
  if (person.userName) names.add(person.userName.toLowerCase());
  return [...names];
}

export async function readLeaverEvidence(
  db: Kysely<OperationalSchema>,
  person: Pick<DirectoryPerson, 'email' | 'userName'>,
): Promise<LeaverEvidence> {
  const names = personNames(person);
  const created = await db
    .selectFrom('discovered_keys')
    .select(['provider', 'provider_key_id'])
    .where((eb) => eb(eb.fn('lower', ['created_by']), 'in', names))
    .where('gone_at', 'is', null)
    .execute();
  const used = await db
    .selectFrom('audit_usage')
    .select('key_id')
    .distinct()
    .where((eb) => eb(eb.fn('lower', ['principal']), 'in', names))
    .where('key_id', 'is not', null)
    .execute();
  return {
    created: created.map((row) => ({ provider: row.provider, providerKeyId: row.provider_key_id })),
    used: used.map((row) => row.key_id!).filter(Boolean),
  };
}

function isLive(entry: KeyEntry): boolean {
  return entry.status !== 'revoked' && entry.status !== 'retired';
}

function consumerNames(consumer: Consumer): string[] {
  if (typeof consumer === 'string') return [consumer];
  return [consumer.service, consumer.team, consumer.host, consumer.repository].filter((name): name is string =>
    Boolean(name),
  );
}

/** A user at a provider that is the person's own: their login, or a numbered second user of theirs (`alice-2`). */
function isPersonalAccount(account: string | undefined, names: readonly string[]): boolean {
  if (!account) return false;
  const lower = account.toLowerCase();
  return names.some((name) => lower === name || new RegExp(`^${escapeRegExp(name)}-\\d+$`).test(lower));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function findLeaverKeys(
  entries: readonly LoadedEntry[],
  person: Pick<DirectoryPerson, 'email' | 'userName' | 'team'>,
  evidence: LeaverEvidence = { created: [], used: [] },
): LeaverKey[] {
  const names = personNames(person);
  const email = person.email.toLowerCase();
  const created = new Set(evidence.created.map((key) => `${key.provider}\u0000${key.providerKeyId}`));
  const used = new Set(evidence.used);
  const found: LeaverKey[] = [];
  for (const { entry } of entries) {
    if (!isLive(entry)) continue;
    const ties: LeaverTie[] = [];
    const because: string[] = [];
    const provider = entry.scope?.provider ?? '';
    if (entry.owner_individual?.toLowerCase() === email) {
      ties.push('owner');
      because.push(`owner_individual is ${email}`);
    }
    if (entry.provider_key_id && created.has(`${provider}\u0000${entry.provider_key_id}`)) {
      ties.push('creator');
      because.push(`${provider} lists ${email} as its creator`);
    }
    const consumers = (entry.consumed_by ?? []).flatMap(consumerNames);
    const leaverConsumes = consumers.some((name) => names.includes(name.toLowerCase()));
    if (leaverConsumes || used.has(entry.key_id)) {
      ties.push('consumer');
      because.push(leaverConsumes ? `consumed_by names ${email}` : `audit logs show ${email} calling with it`);
    }
    if (isPersonalAccount(entry.scope?.account_id, names)) {
      ties.push('personal-credential');
      because.push(`held by ${email}'s own ${provider} user ${entry.scope?.account_id}`);
    }
    if (!ties.length) continue;
    found.push({
      keyId: entry.key_id,
      provider,
      team: entry.owner_team ?? person.team ?? 'unassigned',
      ties,
      because,
      otherConsumers: consumers.filter((name) => !names.includes(name.toLowerCase())),
    });
  }
  return found.sort((a, b) => a.keyId.localeCompare(b.keyId));
}
