// The inventory's server-side filtering and paging over a registry snapshot (registry-snapshot.ts): what the
// principal may read (src/server/access.ts), narrowed by the filters, counted for the headline, one page cut.
import { AUDIT_FINDING_CLASSES, type AuditFindingClass } from '../audit/quarterly-audit.js';
import { KEY_STATUSES, type KeyStatus } from '../registry/key-entry-schema.js';
import type { LoadedEntry } from '../registry/registry-loader.js';
import { entryFacts } from '../registry/registry-query.js';
import { canReadKey, type Principal } from '../server/access.js';
import type { Snapshot } from './registry-snapshot.js';

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

export interface InventoryHeadline {
  active: number;
  noClearOwner: number;
  ownerLeft: number;
  adminScope: number;
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
  const headline: InventoryHeadline = { active: 0, noClearOwner: 0, ownerLeft: 0, adminScope: 0 };
  const teams = new Set<string>();
  const providers = new Set<string>();
  const matched: LoadedEntry[] = [];
  const needle = filter.q?.toLowerCase();
  let visible = 0;
  for (const loaded of snapshot.entries) {
    const { entry } = loaded;
    if (!canReadKey(principal, { team: entry.owner_team, individual: entry.owner_individual })) continue;
    visible += 1;
    const classes = snapshot.classes.get(entry.key_id);
    if (entry.status === 'active') headline.active += 1;
    if (classes?.has('no-clear-owner')) headline.noClearOwner += 1;
    if (classes?.has('owner-left')) headline.ownerLeft += 1;
    if (classes?.has('broad-scope')) headline.adminScope += 1;
    if (entry.owner_team) teams.add(entry.owner_team);
    if (entry.scope?.provider) providers.add(entry.scope.provider);
    if (filter.team !== undefined && entry.owner_team !== filter.team) continue;
    if (filter.provider !== undefined && entry.scope?.provider !== filter.provider) continue;
    if (filter.status !== undefined && entry.status !== filter.status) continue;
    if (filter.flag !== undefined && !classes?.has(filter.flag)) continue;
    if (
      needle !== undefined &&
      !entry.key_id.toLowerCase().includes(needle) &&
      !(entry.purpose ?? entry.description ?? '').toLowerCase().includes(needle) &&
      !(entry.owner_individual ?? '').toLowerCase().includes(needle)
    )
      continue;
    matched.push(loaded);
  }
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
    headline,
    visible,
    matched: matched.length,
    rows,
    page,
    pages,
    teams: [...teams].sort(),
    providers: [...providers].sort(),
  };
}
