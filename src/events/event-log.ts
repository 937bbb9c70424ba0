// The append-only, hash-chained log of every action keyledger takes (src/README.md invariant 3). Appends are
// serialised across processes (PostgreSQL: a transaction-level advisory lock; SQLite: BEGIN IMMEDIATE), so each
// row's seq is the previous one plus one and its prev_hash is the previous row's hash. Given the chain key, rows
// are HMAC'd under it (event-hash.ts); a log begun without a key switches to keyed rows with an
// `event_chain.keyed` row, and once keyed it refuses writers without the key.
import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { EventsTable, OperationalSchema } from '../db/operational-schema.js';
import { dialectOf } from '../db/operational-store.js';
import { writeTransaction } from '../db/write-transaction.js';
import { KeyledgerError } from '../errors/keyledger-error.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import { canonicalJson, type JsonObject } from './canonical-json.js';
import { type EventChainKey, EventChainKeyError } from './event-chain-key.js';
import { type ChainVerification, type VerifyEventChainOptions, verifyEventChain } from './event-chain-verifier.js';
import { chainHashForm, chainHashOfCanonicalData, GENESIS_HASH } from './event-hash.js';
import { assertNoSecretInEventData } from './event-secret-guard.js';
import { EVENT_CHAIN_KEYED_TYPE, type EventType, isValidEventType } from './event-types.js';

export interface AppendEventInput {
  type: EventType;
  /** Who acted: a person's email, `system:rotation-controller`, `token:ci`... */
  actor: string;
  /** The registry key this event is about, if any. */
  keyId?: string | null;
  /** Anything else worth keeping, as JSON. Never key material: a SecretValue here is refused. */
  data?: Record<string, unknown>;
}

export interface LoggedEvent {
  seq: number;
  id: string;
  /** ISO-8601 UTC. */
  at: string;
  type: EventType;
  actor: string;
  keyId: string | null;
  data: JsonObject;
  prevHash: string;
  hash: string;
}

export interface EventFilter {
  type?: string;
  keyId?: string;
  actor?: string;
  /** Events at or after this instant. */
  since?: Date | string;
  /** Events strictly before this instant. */
  until?: Date | string;
  /** Only events with a seq above this (a page cursor for `order: 'asc'`) ... */
  afterSeq?: number;
  /** ... or below this (for `order: 'desc'`). */
  beforeSeq?: number;
  /** At most this many (default 100, at most 10,000). */
  limit?: number;
  /** By seq; oldest first by default. */
  order?: 'asc' | 'desc';
}

export interface ChainHead {
  seq: number;
  hash: string;
}

export interface EventLogOptions {
  /**
   * The chain key (event-chain-key.ts). With it, new rows are HMAC'd; without it, rows are plain SHA-256 and an
   * append to a log that is already keyed is refused (E_EVENT_CHAIN_KEY), so a keyless writer cannot downgrade it.
   */
  chainKey?: EventChainKey | null;
  /**
   * Called after each append with the new head and how many rows were written: committed for `append` and
   * `appendMany`, not yet for `appendWithin` (the caller's transaction may still roll back), so an observer that
   * acts on the head must read the committed one itself, as the anchorer does (event-anchors.ts). A throw is
   * ignored: it must not turn a stored event into a reported failure.
   */
  onAppended?: (head: ChainHead, appended: number) => void;
}

/** A row `listChecked` could not read back as an event: which, and what is wrong with it. */
export interface UnreadableEvent {
  seq: number;
  id: string | null;
  problems: string[];
}

export interface CheckedEventList {
  events: LoggedEvent[];
  /** Rows inside the filter's window that could not be read, by seq in the same order. */
  unreadable: UnreadableEvent[];
}

export class EventInputError extends KeyledgerError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('E_EVENT_INPUT', message, { category: 'input', ...(details ? { details } : {}) });
  }
}

/** A stored row is not a readable event (bad JSON data, a malformed type, a NULL field). */
export class UnreadableEventError extends KeyledgerError {
  constructor(unreadable: UnreadableEvent) {
    super('E_EVENT_UNREADABLE', `event row ${unreadable.seq} is unreadable: ${unreadable.problems.join('; ')}`, {
      category: 'internal',
      details: { seq: unreadable.seq, problems: unreadable.problems },
    });
  }
}

export const DEFAULT_EVENT_LIST_LIMIT = 100;
export const MAX_EVENT_LIST_LIMIT = 10_000;
const MAX_ACTOR_LENGTH = 320;

// One lock id for the whole log; distinct from the migration lock (src/db/operational-store.ts).
const APPEND_ADVISORY_LOCK_ID = 7_271_403_318_512_902n;

type PreparedEvent = Omit<EventsTable, 'seq' | 'prev_hash' | 'hash'> & { parsedData: JsonObject; switchRow?: true };

export class EventLog {
  readonly #db: Kysely<OperationalSchema>;
  readonly #clock: Clock;
  readonly #chainKey: EventChainKey | null;
  readonly #onAppended: EventLogOptions['onAppended'];

  constructor(db: Kysely<OperationalSchema>, clock: Clock = systemClock, options: EventLogOptions = {}) {
    this.#db = db;
    this.#clock = clock;
    this.#chainKey = options.chainKey ?? null;
    this.#onAppended = options.onAppended;
  }

  /** The chain key new rows are HMAC'd under, or null when this log writes plain SHA-256 rows. */
  get chainKey(): EventChainKey | null {
    return this.#chainKey;
  }

  /** Appends one event and returns it as stored. */
  async append(input: AppendEventInput): Promise<LoggedEvent> {
    const [event] = await this.appendMany([input]);
    return event as LoggedEvent;
  }

  /** Appends several events in one transaction, in order, chained one after another. */
  async appendMany(inputs: readonly AppendEventInput[]): Promise<LoggedEvent[]> {
    const prepared = inputs.map((input) => this.#prepare(input));
    if (prepared.length === 0) return [];
    const logged = await writeTransaction(this.#db, (trx) => this.#insertChained(trx, prepared));
    this.#notify(logged);
    return logged;
  }

  /**
   * Appends inside a transaction the caller already holds, so the event commits or rolls back with the caller's
   * other writes. Open it with `writeTransaction` (src/db/write-transaction.ts): on SQLite the transaction must
   * hold the write lock from its start.
   */
  async appendWithin(trx: Kysely<OperationalSchema>, inputs: readonly AppendEventInput[]): Promise<LoggedEvent[]> {
    if (dialectOf(trx) === 'postgres' && !trx.isTransaction) {
      throw new Error('EventLog.appendWithin needs a transaction; use append() outside one');
    }
    const prepared = inputs.map((input) => this.#prepare(input));
    if (prepared.length === 0) return [];
    const logged = await this.#insertChained(trx, prepared);
    // Long-running services (the rotation controller) append only this way: the observer hears of it too.
    this.#notify(logged);
    return logged;
  }

  #notify(logged: LoggedEvent[]): void {
    const last = logged[logged.length - 1];
    if (!last) return;
    try {
      this.#onAppended?.({ seq: last.seq, hash: last.hash }, logged.length);
    } catch {
      // The events are stored (or will be with the caller's transaction); an observer's failure is not theirs.
    }
  }

  /** Events matching every given filter, by seq. A row that cannot be read throws UnreadableEventError. */
  async list(filter: EventFilter = {}): Promise<LoggedEvent[]> {
    const { events, unreadable } = await this.listChecked(filter);
    if (unreadable[0]) throw new UnreadableEventError(unreadable[0]);
    return events;
  }

  /**
   * Like `list`, but a row that cannot be read (data that is not a JSON object, a malformed type, a NULL field) is
   * reported in `unreadable` with what is wrong, and the other rows are returned: one bad row must not hide the log.
   */
  async listChecked(filter: EventFilter = {}): Promise<CheckedEventList> {
    const limit = filter.limit ?? DEFAULT_EVENT_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENT_LIST_LIMIT) {
      throw new EventInputError(`limit must be a whole number from 1 to ${MAX_EVENT_LIST_LIMIT}, got ${limit}`);
    }
    let query = this.#db.selectFrom('events').selectAll();
    if (filter.type !== undefined) query = query.where('type', '=', filter.type);
    if (filter.keyId !== undefined) query = query.where('key_id', '=', filter.keyId);
    if (filter.actor !== undefined) query = query.where('actor', '=', filter.actor);
    if (filter.since !== undefined) query = query.where('at', '>=', toIsoInstant(filter.since, 'since'));
    if (filter.until !== undefined) query = query.where('at', '<', toIsoInstant(filter.until, 'until'));
    if (filter.afterSeq !== undefined) query = query.where('seq', '>', filter.afterSeq);
    if (filter.beforeSeq !== undefined) query = query.where('seq', '<', filter.beforeSeq);
    const rows = await query
      .orderBy('seq', filter.order ?? 'asc')
      .limit(limit)
      .execute();
    const result: CheckedEventList = { events: [], unreadable: [] };
    for (const row of rows) {
      const read = readEventRow(row);
      if ('problems' in read) result.unreadable.push(read);
      else result.events.push(read);
    }
    return result;
  }

  /** The last event's seq and hash, or null for an empty log. Record it elsewhere to detect a truncated tail. */
  async head(): Promise<ChainHead | null> {
    const row = await this.#db
      .selectFrom('events')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? { seq: Number(row.seq), hash: row.hash } : null;
  }

  /** Walks the whole chain under this log's chain key (unless `options.chainKey` says otherwise). */
  verify(options: VerifyEventChainOptions = {}): Promise<ChainVerification> {
    return verifyEventChain(this.#db, { chainKey: this.#chainKey, ...options });
  }

  #prepare(input: AppendEventInput): PreparedEvent {
    if (typeof input.type !== 'string' || !isValidEventType(input.type)) {
      throw new EventInputError(
        `event type ${JSON.stringify(input.type)} is not a lower-case name like "rotated" or "vault.lease_renewed"`,
      );
    }
    if (typeof input.actor !== 'string' || input.actor.trim() === '' || input.actor.length > MAX_ACTOR_LENGTH) {
      throw new EventInputError(`event actor must be a non-empty string of at most ${MAX_ACTOR_LENGTH} characters`);
    }
    const keyId = input.keyId ?? null;
    if (keyId !== null && (typeof keyId !== 'string' || keyId === '')) {
      throw new EventInputError('event keyId must be a non-empty string or null');
    }
    const data = input.data ?? {};
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new EventInputError('event data must be an object');
    }
    assertNoSecretInEventData(data);
    const text = canonicalJson(data, 'data');
    return {
      id: randomUUID(),
      at: this.#clock().toISOString(),
      type: input.type,
      actor: input.actor,
      key_id: keyId,
      data: text,
      // Hash what a reader will parse back, not the caller's object (Dates become text, undefined disappears).
      parsedData: JSON.parse(text) as JsonObject,
    };
  }

  async #insertChained(trx: Kysely<OperationalSchema>, prepared: PreparedEvent[]): Promise<LoggedEvent[]> {
    if (dialectOf(trx) === 'postgres') {
      // Held until the transaction ends; every appender queues here, so reading the head and writing after it is
      // one step.
      await sql`select pg_advisory_xact_lock(${sql.lit(APPEND_ADVISORY_LOCK_ID)})`.execute(trx);
    }
    const head = await trx
      .selectFrom('events')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    let seq = head ? Number(head.seq) : 0;
    let prevHash = head ? head.hash : GENESIS_HASH;
    const chainKey = this.#chainKey;
    const headForm = head ? chainHashForm(head.hash) : null;
    if (headForm?.kind === 'keyed' && chainKey?.version !== headForm.version) {
      throw new EventChainKeyError(
        chainKey
          ? `the event log is keyed with chain key ${headForm.version}, but this writer holds ${chainKey.version}: load the key the log was written with`
          : `the event log is keyed (chain key ${headForm.version}) and this writer has no chain key: open it with its key (KEYLEDGER_EVENT_CHAIN_KEY or the data folder's event-chain.key), so the chain is not downgraded`,
        { details: { headSeq: seq } },
      );
    }
    const toWrite = [...prepared];
    if (chainKey && head && headForm?.kind !== 'keyed') {
      // The switch from plain to keyed rows is itself recorded, keyed: it seals the plain rows before it, since
      // nobody without the key can rewrite them and then recompute this row's HMAC over their new head.
      const text = canonicalJson({
        algorithm: 'hmac-sha256',
        keyVersion: chainKey.version,
        plainRows: seq,
        plainHead: prevHash,
      });
      toWrite.unshift({
        id: randomUUID(),
        at: this.#clock().toISOString(),
        type: EVENT_CHAIN_KEYED_TYPE,
        actor: 'system:event-log',
        key_id: null,
        data: text,
        parsedData: JSON.parse(text) as JsonObject,
        switchRow: true,
      });
    }
    const rows: EventsTable[] = [];
    const logged: LoggedEvent[] = [];
    for (const event of toWrite) {
      seq += 1;
      // event.data is the canonical text of event.parsedData (#prepare), so this is chainHash of the row.
      const hash = chainHashOfCanonicalData(
        {
          seq,
          id: event.id,
          at: event.at,
          type: event.type,
          actor: event.actor,
          key_id: event.key_id,
          prev_hash: prevHash,
        },
        event.data,
        chainKey,
      );
      rows.push({
        seq,
        id: event.id,
        at: event.at,
        type: event.type,
        actor: event.actor,
        key_id: event.key_id,
        data: event.data,
        prev_hash: prevHash,
        hash,
      });
      if (!event.switchRow)
        logged.push({
          seq,
          id: event.id,
          at: event.at,
          type: event.type,
          actor: event.actor,
          keyId: event.key_id,
          data: event.parsedData,
          prevHash,
          hash,
        });
      prevHash = hash;
    }
    await insertEventRows(trx, rows);
    return logged;
  }
}

/** Rows per insert statement (one JSON parameter of a few MB). */
const ROWS_PER_INSERT = 10_000;
const EVENT_COLUMNS = ['seq', 'id', 'at', 'type', 'actor', 'key_id', 'data', 'prev_hash', 'hash'] as const;

/**
 * Inserts rows a batch per statement, the batch as one JSON parameter (an array of row arrays) that the engine
 * unpacks (SQLite's `jsonb_each`, PostgreSQL's `jsonb_array_elements`), as src/audit/audit-usage-store.ts does for
 * usage: a statement with nine bound parameters per row, compiled by Kysely and prepared by the engine for every
 * 500 rows, cost more than the rows' hashing when an ingest logs a hundred thousand anomalies.
 */
async function insertEventRows(trx: Kysely<OperationalSchema>, rows: readonly EventsTable[]): Promise<void> {
  const postgres = dialectOf(trx) === 'postgres';
  const columns = sql.raw(
    EVENT_COLUMNS.map((column, index) =>
      column === 'seq' && postgres ? `(j.value ->> ${index})::bigint` : `j.value ->> ${index}`,
    ).join(', '),
  );
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    const json = JSON.stringify(
      rows.slice(start, start + ROWS_PER_INSERT).map((row) => EVENT_COLUMNS.map((column) => row[column])),
    );
    const from = postgres ? sql`jsonb_array_elements(${json}::jsonb) as j(value)` : sql`jsonb_each(${json}) j`;
    await sql`insert into events (${sql.raw(EVENT_COLUMNS.join(', '))}) select ${columns} from ${from}`.execute(trx);
  }
}

/**
 * A stored row as an event, or what is wrong with it. The table's NOT NULL constraints hold for rows keyledger
 * wrote; this reads whatever is there, since a corrupt or forged row is exactly what a reader must survive.
 */
function readEventRow(row: EventsTable): LoggedEvent | UnreadableEvent {
  const loose = row as unknown as Record<keyof EventsTable, unknown>;
  const problems: string[] = [];
  for (const column of ['id', 'at', 'type', 'actor', 'data', 'prev_hash', 'hash'] as const) {
    if (loose[column] === null || loose[column] === undefined) problems.push(`${column} is NULL`);
    else if (typeof loose[column] !== 'string') problems.push(`${column} is not text`);
  }
  if (typeof loose.at === 'string' && Number.isNaN(Date.parse(loose.at))) {
    problems.push(`at ${JSON.stringify(loose.at.slice(0, 40))} is not an ISO-8601 instant`);
  }
  if (typeof loose.type === 'string' && !isValidEventType(loose.type)) {
    problems.push(`type ${JSON.stringify(loose.type.slice(0, 70))} is not an event type`);
  }
  if (typeof loose.actor === 'string' && loose.actor.trim() === '') problems.push('actor is empty');
  if (loose.key_id !== null && typeof loose.key_id !== 'string') problems.push('key_id is not text');
  let data: unknown;
  if (typeof loose.data === 'string') {
    try {
      data = JSON.parse(loose.data);
      if (typeof data !== 'object' || data === null || Array.isArray(data)) problems.push('data is not a JSON object');
    } catch {
      problems.push('data is not JSON');
    }
  }
  const seq = Number(row.seq);
  if (problems.length > 0) return { seq, id: typeof loose.id === 'string' ? loose.id : null, problems };
  return {
    seq,
    id: row.id,
    at: row.at,
    type: row.type,
    actor: row.actor,
    keyId: row.key_id,
    data: data as JsonObject,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** An instant as the stored ISO form, so text comparison is time comparison. */
function toIsoInstant(value: Date | string, name: string): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new EventInputError(`${name} must be an ISO-8601 date or instant, got ${JSON.stringify(String(value))}`);
  }
  return date.toISOString();
}
