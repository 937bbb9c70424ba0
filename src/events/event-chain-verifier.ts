// Checks the event log's hash chain from the first row to the last, a page at a time so memory stays flat on
// millions of rows, and names the first row that breaks it. Keyed rows (HMAC under the chain key, event-hash.ts)
// cannot be recomputed by a database writer; rows before the switch to keyed are plain SHA-256 and are sealed by
// the keyed row after them. What a chain cannot show — rows cut from the end, or a whole log re-hashed in plain
// SHA-256 — the anchors kept outside the database show (event-anchors.ts): each names a seq and the hash it had.
import type { Kysely } from 'kysely';
import type { EventsTable, OperationalSchema } from '../db/operational-schema.js';
import type { JsonObject } from './canonical-json.js';
import { type EventChainKey, EventChainKeyError } from './event-chain-key.js';
import { chainHashForm, GENESIS_HASH, hashEvent, keyedHashEvent } from './event-hash.js';
import { EVENT_CHAIN_KEYED_TYPE } from './event-types.js';

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
  /** A plain SHA-256 row after the log became keyed (or the switch row itself in plain): re-hashed without the key. */
  | 'plain_after_keyed'
  /** The row at an anchor's seq has another hash than the anchor recorded. */
  | 'anchor_mismatch'
  /** An anchor whose MAC does not verify under the chain key: forged, or written under another key. */
  | 'anchor_invalid'
  /** The log ends before an anchored row: rows were cut from the end. */
  | 'truncated';

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
  /** The first HMAC'd row of those read, or null when none is (a log from before keying, or an empty one). */
  keyedFrom: number | null;
  /** Anchors whose row was reached and matched. */
  anchorsChecked: number;
}

/** A head recorded outside the database: the row at `seq` must have `hash`. */
export interface ChainAnchor {
  seq: number;
  hash: string;
  /** Where it was recorded, for messages: `git <commit>` or `--anchor`. */
  source: string;
  /** When it was recorded (ISO-8601), if known. */
  at?: string;
  /** False when its MAC does not verify under the chain key (event-anchors.ts); absent for a typed-in anchor. */
  valid?: boolean;
}

export interface VerifyEventChainOptions {
  /** Rows per query (default 2,000). */
  pageSize?: number;
  /** A head recorded earlier (e.g. from `keyledger events verify --json`): the row at `seq` must have `hash`. */
  anchor?: { seq: number; hash: string };
  /** Heads recorded outside the database (the registry's `refs/keyledger/anchors`, event-anchors.ts). */
  anchors?: readonly ChainAnchor[];
  /** The chain key. Without it a keyed row cannot be checked, and E_EVENT_CHAIN_KEY is thrown on reaching one. */
  chainKey?: EventChainKey | null;
  /** Called after each page with the rows checked so far. */
  onProgress?: (checked: number) => void;
}

export async function verifyEventChain(
  db: Kysely<OperationalSchema>,
  options: VerifyEventChainOptions = {},
): Promise<ChainVerification> {
  const pageSize = options.pageSize ?? 2_000;
  const chainKey = options.chainKey ?? null;
  const anchors: ChainAnchor[] = [...(options.anchors ?? [])];
  if (options.anchor) anchors.push({ ...options.anchor, source: '--anchor' });
  const anchorsAt = new Map<number, ChainAnchor[]>();
  for (const anchor of anchors) anchorsAt.set(anchor.seq, [...(anchorsAt.get(anchor.seq) ?? []), anchor]);
  let expectedSeq = 1;
  let lastSeq: number | null = null;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  let head: ChainVerification['head'] = null;
  let keyedFrom: number | null = null;
  let anchorsChecked = 0;
  const broken = (firstBad: ChainBreak): ChainVerification => ({
    ok: false,
    checked,
    head,
    firstBad,
    keyedFrom,
    anchorsChecked,
  });

  // A forged anchor is reported before any row: it says nothing about the rows, but someone wrote it.
  const forged = anchors.filter((anchor) => anchor.valid === false).sort((a, b) => a.seq - b.seq)[0];
  if (forged) {
    return broken({
      seq: forged.seq,
      id: null,
      reason: 'anchor_invalid',
      message: `anchor ${forged.source} for row ${forged.seq} does not carry a valid MAC under the chain key: it was forged, or written under another chain key`,
    });
  }

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
      const form = chainHashForm(String(row.hash));
      if (form.kind === 'plain' && (keyedFrom !== null || row.type === EVENT_CHAIN_KEYED_TYPE)) {
        return broken({
          seq,
          id: row.id,
          reason: 'plain_after_keyed',
          message:
            keyedFrom === null
              ? `row ${seq} switched the log to keyed rows but carries a plain SHA-256 hash: it was rewritten and re-hashed by someone without the chain key`
              : `row ${seq} carries a plain SHA-256 hash but the log is keyed from row ${keyedFrom}: it was rewritten and re-hashed by someone without the chain key`,
        });
      }
      if (form.kind === 'keyed') {
        if (!chainKey) {
          throw new EventChainKeyError(
            `row ${seq} of the event log is keyed (chain key ${form.version}) and no chain key was given: set KEYLEDGER_EVENT_CHAIN_KEY or run where the data folder's event-chain.key is`,
            { details: { seq } },
          );
        }
        if (form.version !== chainKey.version) {
          return broken({
            seq,
            id: row.id,
            reason: 'hash_mismatch',
            message: `row ${seq} names chain key ${form.version} but the key loaded is ${chainKey.version}: it was written under another key, or forged`,
          });
        }
        if (keyedHashEvent(fields, chainKey) !== row.hash) {
          return broken({
            seq,
            id: row.id,
            reason: 'hash_mismatch',
            message: `row ${seq} does not match its HMAC under the chain key: it was changed after it was written (and whoever re-hashed it had no key), or moved from another position`,
          });
        }
        keyedFrom ??= seq;
      } else if (form.kind === 'unknown' || hashEvent(fields) !== row.hash) {
        return broken({
          seq,
          id: row.id,
          reason: 'hash_mismatch',
          message:
            form.kind === 'unknown'
              ? `row ${seq} holds a hash in no known form (64 hex digits or hmac-sha256:<version>:<hex>)`
              : `row ${seq} does not match its hash: it was changed after it was written, or moved from another position`,
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
      for (const anchor of anchorsAt.get(seq) ?? []) {
        if (row.hash !== anchor.hash) {
          return broken({
            seq,
            id: row.id,
            reason: 'anchor_mismatch',
            message: `row ${seq} has hash ${row.hash}, not ${anchor.hash} as anchored by ${anchor.source}${anchor.at ? ` at ${anchor.at}` : ''}: the log was rewritten at or before row ${seq} and re-hashed`,
          });
        }
        anchorsChecked += 1;
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
  const last = head?.seq ?? 0;
  const beyond = anchors.filter((anchor) => anchor.seq > last).sort((a, b) => b.seq - a.seq)[0];
  if (beyond) {
    return broken({
      seq: last + 1,
      id: null,
      reason: 'truncated',
      message: `the log ends at row ${last} but ${beyond.source}${beyond.at ? ` at ${beyond.at}` : ''} anchored row ${beyond.seq}: rows ${last + 1} to ${beyond.seq} (at least) were cut from the end`,
    });
  }
  return { ok: true, checked, head, firstBad: null, keyedFrom, anchorsChecked };
}
