// The row types of the operational store, one interface per table, shared by SQLite and PostgreSQL. Portable
// types only: timestamps are ISO-8601 UTC text (`2026-04-01T10:00:00.000Z`, which sorts as it reads), JSON is
// text, sequence numbers are integers (bigint on PostgreSQL, parsed to number by the store).
/** One action in the hash-chained event log (src/events/). Rows are never updated or deleted. */
export interface EventsTable {
  /** 1, 2, 3... without gaps; the chain order. */
  seq: number;
  /** A random UUID, so an event can be named outside the store. */
  id: string;
  /** ISO-8601 UTC text. */
  at: string;
  type: string;
  actor: string;
  key_id: string | null;
  /** Canonical JSON text of the event's data object. */
  data: string;
  /** The previous row's hash; 64 zeros for the first row. */
  prev_hash: string;
  /** Lower-case hex SHA-256 of the canonical JSON of the row (see src/events/event-hash.ts). */
  hash: string;
}

export type IdempotencyStatus = 'in_progress' | 'completed' | 'failed';

/** What a retried command (`keyledger issue --idempotency-key K`) finds when it runs again. */
export interface IdempotencyRecordsTable {
  idempotency_key: string;
  command: string;
  /** A hash of the request, so a reused key with a different request is refused rather than replayed. */
  request_hash: string;
  status: IdempotencyStatus;
  /** JSON text of the result (or the error) once the command finished; null while in progress. */
  result: string | null;
  created_at: string;
  updated_at: string;
}

/** A key of the `internal` provider (src/providers/internal/): its keyed hash, never the key. */
export interface InternalKeysTable {
  /** `ik_` + 16 hex: the provider key id the registry records. */
  id: string;
  name: string;
  account: string | null;
  environment: string;
  /** HMAC-SHA256 (hex) of the key under the organisation's verification key. */
  key_hash: string;
  /** JSON text: the permissions granted. */
  permissions: string;
  status: 'active' | 'revoked';
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

/**
 * Every table of the operational store. A new table adds its interface and one line here, beside the migration
 * that creates it (src/db/README.md).
 */
export interface OperationalSchema {
  events: EventsTable;
  idempotency_records: IdempotencyRecordsTable;
  internal_keys: InternalKeysTable;
}
