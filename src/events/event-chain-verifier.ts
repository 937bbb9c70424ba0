// Checks the event log's hash chain from the first row to the last, a page at a time so memory stays flat on
// millions of rows, and names the first row that breaks it. A chain alone cannot show that rows were cut from the
// end (or that the whole tail was rewritten): compare the head it reports with one recorded elsewhere (`anchor`).
import type { Kysely } from 'kysely';
import type { EventsTable, OperationalSchema } from '../db/operational-schema.js';
import type { JsonObject } from './canonical-json.js';
import { GENESIS_HASH, hashEvent } from './event-hash.js';

export type ChainBreakReason =
  /** A seq is absent: the row was deleted (or the rows after it renumbered). */
  | 'missing_row'
  /** A row with a seq below 1, which no append writes. */
  | 'unexpected_row'
  /** The row's fields no longer give its stored hash: it was edited, or moved to another seq. */
  | 'hash_mismatch'
  /** The row's prev_hash is not the previous row's hash: a row before it was inserted, replaced or reordered. */
  | 'prev_hash_mismatch'
  /** The row's data is not JSON. */
  | 'unreadable_data'
  /** The row at the anchor's seq has another hash, or the log ends before the anchor. */
  | 'anchor_mismatch';

export interface ChainBreak {
  seq: number;
  /** The offending row's id; null when the row is missing. */
  id: string | null;
  reason: ChainBreakReason;
  message: string;
}

export interface ChainVerification {
  ok: boolean;
  /** Rows checked before stopping. */
  checked: number;
  /** The last row's seq and hash (of the rows read), or null for an empty log. */
  head: { seq: number; hash: string } | null;
  firstBad: ChainBreak | null;
}

export interface VerifyEventChainOptions {
  /** Rows per query (default 2,000). */
  pageSize?: number;
  /** A head recorded earlier (e.g. from `keyledger events verify --json`): the row at `seq` must have `hash`. */
  anchor?: { seq: number; hash: string };
  /** Called after each page with the rows checked so far. */
  onProgress?: (checked: number) => void;
}

export async function verifyEventChain(
  db: Kysely<OperationalSchema>,
  options: VerifyEventChainOptions = {},
): Promise<ChainVerification> {
  const pageSize = options.pageSize ?? 2_000;
  const anchor = options.anchor;
  let expectedSeq = 1;
  let lastSeq: number | null = null;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  let head: ChainVerification['head'] = null;
  const broken = (firstBad: ChainBreak): ChainVerification => ({ ok: false, checked, head, firstBad });

  for (;;) {
    // Keyset paging on the primary key: each page is an index range scan, however deep into the log.
    let query = db.selectFrom('events').selectAll();
    // The first page has no lower bound, so a forged row numbered 0 or below is seen too.
    if (lastSeq !== null) query = query.where('seq', '>', lastSeq);
    const page: EventsTable[] = await query.orderBy('seq', 'asc').limit(pageSize).execute();
    for (const row of page) {
      const seq = Number(row.seq);
      if (seq < expectedSeq) {
        return broken({
          seq,
          id: row.id,
          reason: 'unexpected_row',
          message: `row ${seq} should not exist: the log starts at 1`,
        });
      }
      if (seq !== expectedSeq) {
        return broken({
          seq: expectedSeq,
          id: null,
          reason: 'missing_row',
          message: `row ${expectedSeq} is missing: the row after ${expectedSeq - 1} is ${seq}`,
        });
      }
      let data: JsonObject;
      try {
        data = JSON.parse(row.data) as JsonObject;
      } catch {
        return broken({
          seq,
          id: row.id,
          reason: 'unreadable_data',
          message: `row ${seq} holds data that is not JSON`,
        });
      }
      const fields = {
        seq,
        id: row.id,
        at: row.at,
        type: row.type,
        actor: row.actor,
        key_id: row.key_id,
        data,
        prev_hash: row.prev_hash,
      };
      if (hashEvent(fields) !== row.hash) {
        return broken({
          seq,
          id: row.id,
          reason: 'hash_mismatch',
          message: `row ${seq} does not match its hash: it was changed after it was written, or moved from another position`,
        });
      }
      if (row.prev_hash !== prevHash) {
        return broken({
          seq,
          id: row.id,
          reason: 'prev_hash_mismatch',
          message:
            seq === 1
              ? 'row 1 does not start the chain: rows before it were removed, or it was forged'
              : `row ${seq} does not follow row ${seq - 1}: a row was inserted, replaced or reordered at ${seq - 1}`,
        });
      }
      if (anchor && seq === anchor.seq && row.hash !== anchor.hash) {
        return broken({
          seq,
          id: row.id,
          reason: 'anchor_mismatch',
          message: `row ${seq} has hash ${row.hash}, not the anchored ${anchor.hash}: the log was rewritten up to here`,
        });
      }
      prevHash = row.hash;
      head = { seq, hash: row.hash };
      checked += 1;
      expectedSeq += 1;
      lastSeq = seq;
    }
    options.onProgress?.(checked);
    if (page.length < pageSize) break;
  }
  if (anchor && (head?.seq ?? 0) < anchor.seq) {
    return broken({
      seq: (head?.seq ?? 0) + 1,
      id: null,
      reason: 'anchor_mismatch',
      message: `the log ends at row ${head?.seq ?? 0} but row ${anchor.seq} was anchored: rows were cut from the end`,
    });
  }
  return { ok: true, checked, head, firstBad: null };
}
