// Registry drift and the ownership classes, key by key: every key a provider listed is matched to its registry entry
// (by provider and provider key id) and every active entry to a listed key, then classified — registered and
// healthy; unregistered ("without a registry entry, the key shouldn't exist"); registered but gone at the provider;
// owner left; no clear owner; shared across teams; broad scope; unused for 30 days; never used; rotation overdue;
// expired. For a key with no entry, the best owner evidence is collected (its creator at the provider and whether
// they are still here, the callers the audit logs saw) for `discover --adopt` to draft an entry from.
import type { DiscoveredKeysTable } from '../db/operational-schema.js';
import type { PeopleDirectory } from '../directory/people-directory.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { consumerTeams, rotationDueDate } from '../registry/policy/policy-rules.js';
import { parseInstant } from '../registry/registry-dates.js';
import { type KeyCategory, keyCategorizer } from './key-category.js';

const DAY_MS = 86_400_000;

export const DRIFT_CLASSES = [
  'registered-healthy',
  'unregistered',
  'registered-gone',
  'owner-left',
  'no-clear-owner',
  'shared-across-teams',
  'broad-scope',
  'unused-30-days',
  'never-used',
  'rotation-overdue',
  'expired',
] as const;
export type DriftClass = (typeof DRIFT_CLASSES)[number];

export interface OwnerEvidence {
  team?: string;
  individual?: string;
  /** Where each guess comes from, in words a reviewer can check. */
  because: string[];
}

export interface ClassifiedKey {
  provider: string;
  providerKeyId?: string;
  keyId?: string;
  account?: string;
  /** The user the key acts as, when the listing names one apart from the account (ProviderKey.holder). */
  holder?: string;
  classes: DriftClass[];
  /** What kind of credential it is, as far as the provider, the registry and the directory tell (key-category.ts). */
  category?: KeyCategory;
  /** For unregistered keys: who probably owns it. */
  ownerEvidence?: OwnerEvidence;
  lastUsedAt?: string | null;
  createdAt?: string | null;
  createdBy?: string | null;
  permissions?: string[];
}

export interface ClassifyKeysInput {
  entries: readonly KeyEntry[];
  discovered: readonly DiscoveredKeysTable[];
  /** Providers whose latest listing completed: only there can a registered key be called gone. */
  completeProviders: ReadonlySet<string>;
  /** Providers whose listing reports last use: only there is a missing last use "never used". */
  lastUseReported: ReadonlySet<string>;
  people?: PeopleDirectory;
  asOf: Date;
  isBroadPermission: (permission: string) => boolean;
  /** Last use per key_id seen in ingested audit logs, beside the provider's own figure. */
  lastUse?: ReadonlyMap<string, string>;
  /** Callers per credential (`provider\u0000providerKeyId`) seen in audit logs, for owner evidence. */
  callers?: ReadonlyMap<string, string[]>;
  /**
   * The teams whose services the audit logs saw calling each unregistered credential (`provider\u0000providerKeyId`,
   * audit-usage-store.ts): two or more make the key shared across teams, as several consuming teams do an entry.
   */
  callerTeams?: ReadonlyMap<string, readonly string[]>;
  unusedAfterDays?: number;
}

export interface DriftSummary {
  keys: number;
  byClass: Record<DriftClass, number>;
}

export function classifyKeys(input: ClassifyKeysInput): { keys: ClassifiedKey[]; summary: DriftSummary } {
  const asOfMs = input.asOf.getTime();
  const unusedMs = (input.unusedAfterDays ?? 30) * DAY_MS;
  // Every key a listing still shows, live or not: an expired key the provider keeps listing is expired, not gone.
  // By provider, then id: two look-ups rather than a composite string made (and hashed) per key and per entry.
  const listed = listedByProvider(input.discovered);
  const teamsInDirectory = input.people?.teams();
  // Keys some entry names, whatever its status: a key the registry marked revoked or retired is not unregistered
  // (every key matched to an active entry among them). Gathered in the same pass as the active entries are
  // classified; read only after it.
  const named = new Map<string, Set<string>>();
  const keys: ClassifiedKey[] = [];

  for (const entry of input.entries) {
    const provider = entry.scope?.provider;
    const providerKeyId = provider && entry.provider_key_id !== undefined ? String(entry.provider_key_id) : undefined;
    if (providerKeyId !== undefined) {
      const ofProvider = named.get(provider!);
      if (ofProvider) ofProvider.add(providerKeyId);
      else named.set(provider!, new Set([providerKeyId]));
    }
    if (entry.status !== 'active' || !provider) continue;
    const row = providerKeyId !== undefined ? listed.get(provider)?.get(providerKeyId) : undefined;
    const classes: DriftClass[] = [];
    if ((!row || row.status === 'revoked') && providerKeyId !== undefined && input.completeProviders.has(provider))
      classes.push('registered-gone');

    let clearOwner = Boolean(entry.owner_team && entry.owner_individual);
    if (entry.owner_individual && input.people) {
      const person = input.people.find(entry.owner_individual);
      if (!person) clearOwner = false;
      else if (person.status !== 'active') classes.push('owner-left');
    }
    if (entry.owner_team && teamsInDirectory && !teamsInDirectory.has(entry.owner_team)) clearOwner = false;
    if (!clearOwner) classes.push('no-clear-owner');
    if (consumerTeams(entry.consumed_by).size > 1) classes.push('shared-across-teams');
    const permissions = [...(entry.scope?.permissions ?? []), ...parsePermissions(row?.permissions)];
    if (permissions.some((permission) => input.isBroadPermission(permission))) classes.push('broad-scope');
    const lastUse = latest(row?.last_used_at, input.lastUse?.get(entry.key_id));
    classifyUse(classes, lastUse, row ? input.lastUseReported.has(provider) : false, asOfMs, unusedMs);
    const due = rotationDueDate(entry);
    if (due && due.getTime() < asOfMs) classes.push('rotation-overdue');
    const expires = parseInstant(entry.expiration)?.date;
    if ((expires && expires.getTime() < asOfMs) || row?.status === 'expired') classes.push('expired');
    // Fields set one by one in the order a spread of optional parts gave them (the JSON output keeps it): spreading
    // temporary objects was a good share of classifying 100,000 keys.
    const key = { provider, keyId: entry.key_id } as ClassifiedKey;
    if (entry.provider_key_id !== undefined) key.providerKeyId = providerKeyId ?? String(entry.provider_key_id);
    if (entry.scope?.account_id) key.account = entry.scope.account_id;
    if (row?.holder) key.holder = row.holder;
    key.classes = classes.length === 0 ? ['registered-healthy'] : classes;
    key.lastUsedAt = lastUse ?? null;
    if (row) {
      key.createdAt = row.created_at;
      key.createdBy = row.created_by;
    }
    keys.push(key);
  }

  pushUnregistered(keys, listed, named, input, asOfMs, unusedMs);

  const categoryOf = keyCategorizer(input.people);
  for (const key of keys) key.category = categoryOf(key);
  const byClass = Object.fromEntries(DRIFT_CLASSES.map((cls) => [cls, 0])) as Record<DriftClass, number>;
  for (const key of keys) for (const cls of key.classes) byClass[cls] += 1;
  sortByProviderAndKey(keys);
  return { keys, summary: { keys: keys.length, byClass } };
}

/**
 * Only the listed keys no entry names, classified as classifyKeys classifies them (the quarterly audit's discovery
 * input, src/audit/audit-discovery-input.ts): the entries are only looked through for the keys they name, so this
 * costs a set of ids, not a classification of every entry. Same order and fields as in classifyKeys' result.
 */
export function classifyUnregisteredKeys(input: ClassifyKeysInput): ClassifiedKey[] {
  const listed = listedByProvider(input.discovered);
  const named = keysNamedByEntries(input.entries);
  const keys: ClassifiedKey[] = [];
  pushUnregistered(keys, listed, named, input, input.asOf.getTime(), (input.unusedAfterDays ?? 30) * DAY_MS);
  const categoryOf = keyCategorizer(input.people);
  for (const key of keys) key.category = categoryOf(key);
  sortByProviderAndKey(keys);
  return keys;
}

/**
 * The provider key ids the entries name, by provider, whatever the entry's status: a listed key among them is not
 * unregistered.
 */
export function keysNamedByEntries(entries: readonly KeyEntry[]): Map<string, Set<string>> {
  const named = new Map<string, Set<string>>();
  for (const entry of entries) {
    const provider = entry.scope?.provider;
    if (!provider || entry.provider_key_id === undefined) continue;
    const ofProvider = named.get(provider);
    if (ofProvider) ofProvider.add(String(entry.provider_key_id));
    else named.set(provider, new Set([String(entry.provider_key_id)]));
  }
  return named;
}

/** Every key a listing still shows (gone_at unset), by provider, then id. */
function listedByProvider(discovered: readonly DiscoveredKeysTable[]): Map<string, Map<string, DiscoveredKeysTable>> {
  const listed = new Map<string, Map<string, DiscoveredKeysTable>>();
  for (const row of discovered) {
    if (row.gone_at !== null) continue;
    const ofProvider = listed.get(row.provider);
    if (ofProvider) ofProvider.set(row.provider_key_id, row);
    else listed.set(row.provider, new Map([[row.provider_key_id, row]]));
  }
  return listed;
}

/** The live listed keys no entry names, appended to `keys` as unregistered. */
function pushUnregistered(
  keys: ClassifiedKey[],
  listed: ReadonlyMap<string, ReadonlyMap<string, DiscoveredKeysTable>>,
  named: ReadonlyMap<string, ReadonlySet<string>>,
  input: ClassifyKeysInput,
  asOfMs: number,
  unusedMs: number,
): void {
  for (const [provider, rows] of listed) {
    const namedHere = named.get(provider);
    for (const [id, row] of rows) {
      if (namedHere?.has(id) || !isLive(row)) continue;
      keys.push(unregisteredKey(row, `${provider}\u0000${id}`, input, asOfMs, unusedMs));
    }
  }
}

function isLive(row: DiscoveredKeysTable): boolean {
  return row.status !== 'revoked' && row.status !== 'expired';
}

/**
 * Provider, then key, each in code-unit order, as quarterly-audit.ts sorts its findings (localeCompare on two fields
 * was 2 of the audit's 7.5 s at 100,000 keys, and hung on the machine's locale): a bucket per provider, each sorted
 * by key alone, with no composite key string per key. Stable.
 */
function sortByProviderAndKey(keys: ClassifiedKey[]): void {
  const byProvider = new Map<string, ClassifiedKey[]>();
  for (const key of keys) {
    const bucket = byProvider.get(key.provider);
    if (bucket) bucket.push(key);
    else byProvider.set(key.provider, [key]);
  }
  const idOf = (key: ClassifiedKey) => key.keyId ?? key.providerKeyId ?? '';
  const byId = (a: ClassifiedKey, b: ClassifiedKey) => {
    const x = idOf(a);
    const y = idOf(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
  let at = 0;
  for (const provider of [...byProvider.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const key of byProvider.get(provider)!.sort(byId)) keys[at++] = key;
  }
}

/** A listed key no entry names: unregistered, with the owner evidence for an adoption draft. */
function unregisteredKey(
  row: DiscoveredKeysTable,
  at: string,
  input: ClassifyKeysInput,
  asOfMs: number,
  unusedMs: number,
): ClassifiedKey {
  // The brief counts a key nobody registered among those "with no clear owner".
  const classes: DriftClass[] = ['unregistered', 'no-clear-owner'];
  const permissions = parsePermissions(row.permissions);
  if (permissions.some((permission) => input.isBroadPermission(permission))) classes.push('broad-scope');
  const callers = input.callers?.get(at) ?? [];
  const callerTeams = input.callerTeams?.get(at) ?? [];
  if (callerTeams.length > 1) classes.push('shared-across-teams');
  const lastUse = row.last_used_at;
  classifyUse(classes, lastUse, input.lastUseReported.has(row.provider), asOfMs, unusedMs);
  return {
    provider: row.provider,
    providerKeyId: row.provider_key_id,
    ...(row.account ? { account: row.account } : {}),
    ...(row.holder ? { holder: row.holder } : {}),
    classes,
    ownerEvidence: ownerEvidence(row, callers, callerTeams, input.people),
    lastUsedAt: lastUse,
    createdAt: row.created_at,
    createdBy: row.created_by,
    ...(permissions.length ? { permissions } : {}),
  };
}

function classifyUse(
  classes: DriftClass[],
  lastUse: string | null | undefined,
  reported: boolean,
  asOfMs: number,
  unusedMs: number,
): void {
  if (lastUse) {
    if (asOfMs - Date.parse(lastUse) >= unusedMs) classes.push('unused-30-days');
  } else if (reported) {
    classes.push('never-used');
  }
}

function ownerEvidence(
  row: DiscoveredKeysTable,
  callers: string[],
  callerTeams: readonly string[],
  people: PeopleDirectory | undefined,
): OwnerEvidence {
  const evidence: OwnerEvidence = { because: [] };
  if (row.created_by) {
    const person = people?.find(row.created_by);
    if (person) {
      if (person.status === 'active') {
        evidence.individual = person.email;
        if (person.team) evidence.team = person.team;
        evidence.because.push(`created at ${row.provider} by ${person.email} (${person.team ?? 'no team'})`);
      } else {
        if (person.team) evidence.team = person.team;
        evidence.because.push(
          `created at ${row.provider} by ${person.email}, who ${person.status === 'left' ? `left${person.left_at ? ` on ${person.left_at}` : ''}` : 'is suspended'}: their team ${person.team ?? '(unknown)'} should take it`,
        );
      }
    } else {
      evidence.because.push(`created at ${row.provider} by ${row.created_by}, who is not in the people directory`);
    }
  }
  if (callers.length > 0) evidence.because.push(`used by ${callers.slice(0, 5).join(', ')} in the audit logs`);
  if (callerTeams.length > 1)
    evidence.because.push(
      `called from the services of ${callerTeams.length} teams (${callerTeams.join(', ')}): split it`,
    );
  else if (callerTeams.length === 1 && !evidence.team) {
    evidence.team = callerTeams[0]!;
    evidence.because.push(`called from the services of ${callerTeams[0]} in the audit logs`);
  }
  if (evidence.because.length === 0)
    evidence.because.push('no evidence: the provider names no creator and no audit log shows its use');
  return evidence;
}

function parsePermissions(text: string | null | undefined): string[] {
  if (!text) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

function latest(a: string | null | undefined, b: string | null | undefined): string | undefined {
  if (!a) return b ?? undefined;
  if (!b) return a;
  return a > b ? a : b;
}
