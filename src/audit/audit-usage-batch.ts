// Usage rows as the store's upsert takes them (audit-usage-store.ts): sorted in the table's primary-key order and
// written as JSON arrays, a batch per statement. A module of its own, without the database code, because the
// enrichment worker threads (audit-log-enrichment-worker.ts) build the batches and post them as text, so the thread
// that stores does not also pay for sorting and serialising a million rows.
import type { AuditUsageTable as UsageRow } from '../db/operational-schema.js';

/** Rows per statement: each batch travels as one JSON parameter of a few MB. */
export const USAGE_ROWS_PER_BATCH = 50_000;

/** A batch of usage rows for one upsert statement: `json` is an array of row arrays in USAGE_COLUMNS order. */
export interface UsageBatch {
  rows: number;
  json: string;
}

export const USAGE_COLUMNS = [
  'provider',
  'credential',
  'day',
  'source',
  'principal',
  'outcome',
  'key_id',
  'source_team',
  'count',
  'first_at',
  'last_at',
  'last_current_at',
] as const;

/** The rows as upsert batches, in USAGE_COLUMNS order (the rows' own order kept). */
export function usageBatchesOf(rows: readonly UsageRow[]): UsageBatch[] {
  const batches: UsageBatch[] = [];
  for (let start = 0; start < rows.length; start += USAGE_ROWS_PER_BATCH) {
    const slice = rows.slice(start, start + USAGE_ROWS_PER_BATCH);
    // Spelled out rather than USAGE_COLUMNS.map(column => row[column]): a keyed look-up per cell was most of
    // serialising (docs/audit.md, "Ingest").
    const json = JSON.stringify(
      slice.map((row) => [
        row.provider,
        row.credential,
        row.day,
        row.source,
        row.principal,
        row.outcome,
        row.key_id,
        row.source_team,
        row.count,
        row.first_at,
        row.last_at,
        row.last_current_at,
      ]),
    );
    batches.push({ rows: slice.length, json });
  }
  return batches;
}

/**
 * The rows in the order of audit_usage's primary key (provider, credential, day, source, principal, outcome), so the
 * upsert walks each B-tree from one end to the other instead of all over it: on a million rows, half the time of
 * arrival order (docs/audit.md, "Ingest"). Grouped by credential first, each group then sorted on the rest: cheaper
 * than one sort of a million rows. JavaScript compares UTF-16 code units and SQLite bytes of UTF-8; they differ only
 * beyond the Basic Multilingual Plane, where the order is then a little off, which costs time, not correctness.
 */
export function inPrimaryKeyOrder(rows: Iterable<UsageRow>): UsageRow[] {
  // Provider -> credential -> rows: nested maps rather than one keyed by provider + credential, which built a
  // string per row.
  const byProvider = new Map<string, Map<string, UsageRow[]>>();
  for (const row of rows) {
    let groups = byProvider.get(row.provider);
    if (!groups) {
      groups = new Map();
      byProvider.set(row.provider, groups);
    }
    const group = groups.get(row.credential);
    if (group) group.push(row);
    else groups.set(row.credential, [row]);
  }
  const ordered: UsageRow[] = [];
  for (const provider of [...byProvider.keys()].sort()) {
    const groups = byProvider.get(provider)!;
    for (const credential of [...groups.keys()].sort()) {
      const group = groups.get(credential)!;
      if (group.length > 1) group.sort(comparePrimaryKeyTail);
      for (const row of group) ordered.push(row);
    }
  }
  return ordered;
}

function comparePrimaryKeyTail(a: UsageRow, b: UsageRow): number {
  if (a.day !== b.day) return a.day < b.day ? -1 : 1;
  if (a.source !== b.source) return a.source < b.source ? -1 : 1;
  if (a.principal !== b.principal) return a.principal < b.principal ? -1 : 1;
  if (a.outcome !== b.outcome) return a.outcome < b.outcome ? -1 : 1;
  return 0;
}
