// Filters over loaded entries for `keyledger list` and the API: by team, owner, provider, status, expiring within
// N days, rotation overdue.
import type { KeyEntry, KeyStatus } from './key-entry-schema.js';
import { rotationDueDate } from './policy/policy-rules.js';
import { daysBetween, parseInstant } from './registry-dates.js';
import type { LoadedEntry } from './registry-loader.js';

export interface EntryFilter {
  team?: string;
  owner?: string;
  provider?: string;
  status?: KeyStatus;
  /** Expires within this many days from now (already expired included). */
  expiringWithinDays?: number;
  rotationOverdue?: boolean;
  tag?: string;
}

export function matchesFilter(entry: KeyEntry, filter: EntryFilter, now: Date): boolean {
  if (filter.team !== undefined && entry.owner_team !== filter.team) return false;
  if (filter.owner !== undefined && entry.owner_individual?.toLowerCase() !== filter.owner.toLowerCase()) return false;
  if (filter.provider !== undefined && entry.scope?.provider !== filter.provider) return false;
  if (filter.status !== undefined && entry.status !== filter.status) return false;
  if (filter.tag !== undefined && !entry.tags?.includes(filter.tag)) return false;
  if (filter.expiringWithinDays !== undefined) {
    const expires = parseInstant(entry.expiration)?.date;
    if (!expires || daysBetween(now, expires) > filter.expiringWithinDays) return false;
  }
  if (filter.rotationOverdue) {
    const due = rotationDueDate(entry);
    if (!due || due.getTime() > now.getTime()) return false;
  }
  return true;
}

export function filterEntries(entries: readonly LoadedEntry[], filter: EntryFilter, now: Date): LoadedEntry[] {
  return entries
    .filter(({ entry }) => matchesFilter(entry, filter, now))
    .sort((a, b) => a.entry.key_id.localeCompare(b.entry.key_id));
}

/** The computed facts list and show print beside the stored fields. */
export function entryFacts(entry: KeyEntry, now: Date) {
  const expires = parseInstant(entry.expiration)?.date;
  const due = rotationDueDate(entry);
  const created = parseInstant(entry.created_at)?.date;
  return {
    age_days: created ? Math.floor(daysBetween(created, now)) : undefined,
    expires_in_days: expires ? Math.floor(daysBetween(now, expires)) : undefined,
    rotation_due: due?.toISOString(),
    rotation_overdue: due ? due.getTime() <= now.getTime() : false,
  };
}
