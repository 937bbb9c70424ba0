// The dashboard's indexes over one registry snapshot (registry-snapshot.ts): its entries grouped by team, owner,
// provider, status and finding class, each group in the snapshot's key order, with each team's headline counts and
// providers. Built once per snapshot (it changes when the registry's HEAD moves), so an inventory request
// (inventory-query.ts) or a team's page reads the groups it needs instead of every entry.
import type { AuditFindingClass } from '../audit/quarterly-audit.js';
import type { LoadedEntry } from '../registry/registry-loader.js';
import type { Snapshot } from './registry-snapshot.js';

export interface InventoryHeadline {
  active: number;
  noClearOwner: number;
  ownerLeft: number;
  adminScope: number;
}

/** What the inventory shows about a set of keys besides its rows: the headline counts and the providers named. */
export interface GroupSummary {
  entries: number;
  headline: InventoryHeadline;
  providers: ReadonlySet<string>;
}

export interface InventoryIndex {
  byTeam: ReadonlyMap<string, readonly LoadedEntry[]>;
  /** By lower-cased owner_individual. */
  byOwner: ReadonlyMap<string, readonly LoadedEntry[]>;
  byProvider: ReadonlyMap<string, readonly LoadedEntry[]>;
  byStatus: ReadonlyMap<string, readonly LoadedEntry[]>;
  byClass: ReadonlyMap<AuditFindingClass, readonly LoadedEntry[]>;
  /** Each team's summary; `all` is every entry's (what the security role sees). */
  teamSummaries: ReadonlyMap<string, GroupSummary>;
  all: GroupSummary;
  /** Each entry's place in the snapshot's order, to merge groups back into it. */
  position: ReadonlyMap<LoadedEntry, number>;
}

export function emptyHeadline(): InventoryHeadline {
  return { active: 0, noClearOwner: 0, ownerLeft: 0, adminScope: 0 };
}

/** Adds one entry to a headline, by its status and the audit's classes for it. */
export function countInHeadline(
  headline: InventoryHeadline,
  entry: LoadedEntry['entry'],
  classes: ReadonlySet<AuditFindingClass> | undefined,
): void {
  if (entry.status === 'active') headline.active += 1;
  if (classes?.has('no-clear-owner')) headline.noClearOwner += 1;
  if (classes?.has('owner-left')) headline.ownerLeft += 1;
  if (classes?.has('broad-scope')) headline.adminScope += 1;
}

const built = new WeakMap<Snapshot, InventoryIndex>();

/** The snapshot's index, built on first use and kept as long as the snapshot is. */
export function inventoryIndexOf(snapshot: Snapshot): InventoryIndex {
  let index = built.get(snapshot);
  if (!index) {
    index = buildIndex(snapshot);
    built.set(snapshot, index);
  }
  return index;
}

function buildIndex(snapshot: Snapshot): InventoryIndex {
  const byTeam = new Map<string, LoadedEntry[]>();
  const byOwner = new Map<string, LoadedEntry[]>();
  const byProvider = new Map<string, LoadedEntry[]>();
  const byStatus = new Map<string, LoadedEntry[]>();
  const byClass = new Map<AuditFindingClass, LoadedEntry[]>();
  const teamSummaries = new Map<string, { entries: number; headline: InventoryHeadline; providers: Set<string> }>();
  const all = { entries: 0, headline: emptyHeadline(), providers: new Set<string>() };
  const position = new Map<LoadedEntry, number>();
  // One pass in the snapshot's order, so every group is in key order too.
  for (const loaded of snapshot.entries) {
    const { entry } = loaded;
    const classes = snapshot.classes.get(entry.key_id);
    const provider = entry.scope?.provider;
    if (entry.owner_team) {
      pushTo(byTeam, entry.owner_team, loaded);
      let summary = teamSummaries.get(entry.owner_team);
      if (!summary) {
        summary = { entries: 0, headline: emptyHeadline(), providers: new Set() };
        teamSummaries.set(entry.owner_team, summary);
      }
      summary.entries += 1;
      countInHeadline(summary.headline, entry, classes);
      if (provider) summary.providers.add(provider);
    }
    if (entry.owner_individual) pushTo(byOwner, entry.owner_individual.toLowerCase(), loaded);
    if (provider) pushTo(byProvider, provider, loaded);
    pushTo(byStatus, entry.status, loaded);
    for (const cls of classes ?? []) pushTo(byClass, cls, loaded);
    position.set(loaded, all.entries);
    all.entries += 1;
    countInHeadline(all.headline, entry, classes);
    if (provider) all.providers.add(provider);
  }
  return { byTeam, byOwner, byProvider, byStatus, byClass, teamSummaries, all, position };
}

function pushTo<K>(groups: Map<K, LoadedEntry[]>, key: K, loaded: LoadedEntry): void {
  const group = groups.get(key);
  if (group) group.push(loaded);
  else groups.set(key, [loaded]);
}
