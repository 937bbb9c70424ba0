// The append-only, hash-chained log of every action keyledger takes (src/README.md invariant 3). Appends are
// serialised across processes (PostgreSQL: a transaction-level advisory lock; SQLite: BEGIN IMMEDIATE), so each
// row's seq is the previous one plus one and its prev_hash is the previous row's hash.
import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { EventsTable, OperationalSchema } from '../db/operational-schema.js';
import { dialectOf } from '../db/operational-store.js';
import { writeTransaction } from '../db/write-transaction.js';
import { KeyledgerError } from '../errors/keyledger-error.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import { canonicalJson, type JsonObject } from './canonical-json.js';
import { type ChainVerification, type VerifyEventChainOptions, verifyEventChain } from './event-chain-verifier.js';
import { GENESIS_HASH, hashEvent } from './event-hash.js';
import { assertNoSecretInEventData } from './event-secret-guard.js';
import { type EventType, isValidEventType } from './event-types.js';

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

export class EventInputError extends KeyledgerError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('E_EVENT_INPUT', message, { category: 'input', ...(details ? { details } : {}) });
  }
}

export const DEFAULT_EVENT_LIST_LIMIT = 100;
export const MAX_EVENT_LIST_LIMIT = 10_000;
const MAX_ACTOR_LENGTH = 320;

// One lock id for the whole log; distinct from the migration lock (src/db/operational-store.ts).
const APPEND_ADVISORY_LOCK_ID = 7_271_403_318_512_902n;

type PreparedEvent = Omit<EventsTable, 'seq' | 'prev_hash' | 'hash'> & { parsedData: JsonObject };

export class EventLog {
  readonly #db: Kysely<OperationalSchema>;
  readonly #clock: Clock;

  constructor(db: Kysely<OperationalSchema>, clock: Clock = systemClock) {
    this.#db = db;
    this.#clock = clock;
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
    return writeTransaction(this.#db, (trx) => this.#insertChained(trx, prepared));
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
    return prepared.length === 0 ? [] : this.#insertChained(trx, prepared);
  }

  /** Events matching every given filter, by seq. */
  async list(filter: EventFilter = {}): Promise<LoggedEvent[]> {
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
    return rows.map(toLoggedEvent);
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

  /** Walks the whole chain; see verifyEventChain. */
  verify(options: VerifyEventChainOptions = {}): Promise<ChainVerification> {
    return verifyEventChain(this.#db, options);
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
    const rows: EventsTable[] = [];
    const logged: LoggedEvent[] = [];
    for (const event of prepared) {
      seq += 1;
      const hash = hashEvent({
        seq,
        id: event.id,
        at: event.at,
        type: event.type,
        actor: event.actor,
        key_id: event.key_id,
        data: event.parsedData,
        prev_hash: prevHash,
      });
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
    // Chunked so a large batch stays under SQLite's bound-parameter limit.
    for (let start = 0; start < rows.length; start += 500) {
      await trx
        .insertInto('events')
        .values(rows.slice(start, start + 500))
        .execute();
    }
    return logged;
  }
}

function toLoggedEvent(row: EventsTable): LoggedEvent {
  return {
    seq: Number(row.seq),
    id: row.id,
    at: row.at,
    type: row.type,
    actor: row.actor,
    keyId: row.key_id,
    data: JSON.parse(row.data) as JsonObject,
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
