// The inventory's server-side filtering and paging over a registry snapshot (registry-snapshot.ts): what the
// principal may read (src/server/access.ts), narrowed by the filters, counted for the headline, one page cut. It
// reads the snapshot's groups (inventory-index.ts), so a filtered page walks the smallest group its filters name,
// and one team's page with no other filter reads only the rows it shows.
import { AUDIT_FINDING_CLASSES, type AuditFindingClass } from '../audit/quarterly-audit.js';
import { KEY_STATUSES, type KeyStatus } from '../registry/key-entry-schema.js';
import type { LoadedEntry } from '../registry/registry-loader.js';
import { entryFacts } from '../registry/registry-query.js';
import { canReadKey, hasRole, type Principal } from '../server/access.js';
import {
  countInHeadline,
  emptyHeadline,
  type InventoryHeadline,
  type InventoryIndex,
  inventoryIndexOf,
} from './inventory-index.js';
import type { Snapshot } from './registry-snapshot.js';

export type { InventoryHeadline } from './inventory-index.js';

/** The finding classes the inventory marks on each row, with their labels (every class can be filtered on). */
export const INVENTORY_FLAGS: Partial<Record<AuditFindingClass, string>> = {
  'rotation-overdue': 'rotation overdue',
  expired: 'expired',
  'no-clear-owner': 'no clear owner',
  'owner-left': 'owner left',
  'broad-scope': 'admin or broad scope',
  'unused-30-days': 'unused 30 days',
};

export interface InventoryFilter {
  q?: string;
  team?: string;
  provider?: string;
  status?: KeyStatus;
  flag?: AuditFindingClass;
  page?: number;
}

export interface InventoryRow {
  entry: LoadedEntry['entry'];
  flags: AuditFindingClass[];
  rotationDue?: string | undefined;
  overdue: boolean;
}

export interface InventoryPage {
  headline: InventoryHeadline;
  visible: number;
  matched: number;
  rows: InventoryRow[];
  page: number;
  pages: number;
  teams: string[];
  providers: string[];
}

export const PAGE_SIZE = 50;

export function parseInventoryFilter(query: Record<string, unknown>): InventoryFilter {
  const text = (name: string) => {
    const value = query[name];
    return typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, 200) : undefined;
  };
  const status = text('status');
  const flag = text('flag');
  const page = Number(text('page') ?? '1');
  return {
    ...(text('q') ? { q: text('q')! } : {}),
    ...(text('team') ? { team: text('team')! } : {}),
    ...(text('provider') ? { provider: text('provider')! } : {}),
    ...(status && (KEY_STATUSES as readonly string[]).includes(status) ? { status: status as KeyStatus } : {}),
    ...(flag && (AUDIT_FINDING_CLASSES as readonly string[]).includes(flag) ? { flag: flag as AuditFindingClass } : {}),
    page: Number.isInteger(page) && page > 0 ? page : 1,
  };
}

export function queryInventory(
  snapshot: Snapshot,
  principal: Principal,
  filter: InventoryFilter,
  now: Date,
): InventoryPage {
  const index = inventoryIndexOf(snapshot);
  const seesAll = hasRole(principal, 'security');
  const visible = seesAll ? everything(snapshot, index) : visibleTo(principal, snapshot, index);
  // The filters the index answers, each a group in key order: the smallest is all a request walks.
  const groups: Array<readonly LoadedEntry[]> = [];
  if (filter.team !== undefined) groups.push(index.byTeam.get(filter.team) ?? []);
  if (filter.provider !== undefined) groups.push(index.byProvider.get(filter.provider) ?? []);
  if (filter.status !== undefined) groups.push(index.byStatus.get(filter.status) ?? []);
  if (filter.flag !== undefined) groups.push(index.byClass.get(filter.flag) ?? []);
  const candidates = groups.length
    ? groups.reduce((smallest, group) => (group.length < smallest.length ? group : smallest))
    : visible.entries();
  const needle = filter.q?.toLowerCase();
  // One indexed filter and nothing else, over keys all visible: the group is the match, and only the page is read.
  const exact =
    needle === undefined &&
    groups.length <= 1 &&
    (seesAll || groups.length === 0 || (filter.team !== undefined && principal.teams.includes(filter.team)));
  const matched: readonly LoadedEntry[] = exact
    ? candidates
    : candidates.filter(({ entry }) => {
        if (!seesAll && !canReadKey(principal, { team: entry.owner_team, individual: entry.owner_individual }))
          return false;
        if (filter.team !== undefined && entry.owner_team !== filter.team) return false;
        if (filter.provider !== undefined && entry.scope?.provider !== filter.provider) return false;
        if (filter.status !== undefined && entry.status !== filter.status) return false;
        if (filter.flag !== undefined && !snapshot.classes.get(entry.key_id)?.has(filter.flag)) return false;
        return (
          needle === undefined ||
          entry.key_id.toLowerCase().includes(needle) ||
          (entry.purpose ?? entry.description ?? '').toLowerCase().includes(needle) ||
          (entry.owner_individual ?? '').toLowerCase().includes(needle)
        );
      });
  const pages = Math.max(1, Math.ceil(matched.length / PAGE_SIZE));
  const page = Math.min(filter.page ?? 1, pages);
  const rows = matched.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE).map(({ entry }) => {
    const facts = entryFacts(entry, now);
    return {
      entry,
      flags: [...(snapshot.classes.get(entry.key_id) ?? [])].filter((cls) => cls in INVENTORY_FLAGS),
      rotationDue: facts.rotation_due,
      overdue: facts.rotation_overdue,
    };
  });
  return {
    headline: visible.headline,
    visible: visible.count,
    matched: matched.length,
    rows,
    page,
    pages,
    teams: [...visible.teams].sort(),
    providers: [...visible.providers].sort(),
  };
}

/** The keys a principal may read, summarised; `entries()` lists them in key order when a request needs them. */
interface VisibleKeys {
  count: number;
  headline: InventoryHeadline;
  teams: Iterable<string>;
  providers: Iterable<string>;
  entries(): readonly LoadedEntry[];
}

function everything(snapshot: Snapshot, index: InventoryIndex): VisibleKeys {
  return {
    count: index.all.entries,
    headline: { ...index.all.headline },
    teams: index.teamSummaries.keys(),
    providers: index.all.providers,
    entries: () => snapshot.entries,
  };
}

/**
 * A member's keys: their teams' groups (summaries added, not recounted) and the keys they own in other teams
 * (counted one by one: a person's own keys are few). Listed only when no indexed filter narrows the request.
 */
function visibleTo(principal: Principal, snapshot: Snapshot, index: InventoryIndex): VisibleKeys {
  const ownTeams = [...new Set(principal.teams)].filter((team) => index.teamSummaries.has(team));
  const owned = principal.email ? (index.byOwner.get(principal.email.toLowerCase()) ?? []) : [];
  const elsewhere = owned.filter(({ entry }) => !(entry.owner_team && ownTeams.includes(entry.owner_team)));
  const headline = emptyHeadline();
  const teams = new Set(ownTeams);
  const providers = new Set<string>();
  let count = elsewhere.length;
  for (const team of ownTeams) {
    const summary = index.teamSummaries.get(team)!;
    count += summary.entries;
    headline.active += summary.headline.active;
    headline.noClearOwner += summary.headline.noClearOwner;
    headline.ownerLeft += summary.headline.ownerLeft;
    headline.adminScope += summary.headline.adminScope;
    for (const provider of summary.providers) providers.add(provider);
  }
  for (const { entry } of elsewhere) {
    countInHeadline(headline, entry, snapshot.classes.get(entry.key_id));
    if (entry.owner_team) teams.add(entry.owner_team);
    if (entry.scope?.provider) providers.add(entry.scope.provider);
  }
  return {
    count,
    headline,
    teams,
    providers,
    entries: () =>
      [...ownTeams.map((team) => index.byTeam.get(team)!), elsewhere]
        .filter((list) => list.length > 0)
        .reduce<readonly LoadedEntry[]>((merged, list) => mergeInOrder(merged, list, index.position), []),
  };
}

/** Two disjoint groups of the snapshot merged back into its order in one pass (each is already in that order). */
function mergeInOrder(
  a: readonly LoadedEntry[],
  b: readonly LoadedEntry[],
  position: ReadonlyMap<LoadedEntry, number>,
): readonly LoadedEntry[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const merged: LoadedEntry[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) merged.push(position.get(a[i]!)! < position.get(b[j]!)! ? a[i++]! : b[j++]!);
  while (i < a.length) merged.push(a[i++]!);
  while (j < b.length) merged.push(b[j++]!);
  return merged;
}
