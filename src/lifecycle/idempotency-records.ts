// Idempotency for commands that must not run twice (`keyledger issue --idempotency-key K`): the first run records
// the request and, step by step, what it has done; a retry of a finished command gets the first result back; a
// retry of one that crashed half-way learns what there is to undo.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import { canonicalJson } from '../events/canonical-json.js';
import type { Clock } from '../runtime/clock.js';
import { IdempotencyConflictError } from './lifecycle-error.js';

export type IdempotencyClaim<Progress, Result> =
  | { kind: 'new' }
  | { kind: 'completed'; result: Result }
  /** A previous run stopped without finishing; `progress` is what it recorded before it did. */
  | { kind: 'abandoned'; progress: Progress | null };

/** A crashed run is taken over after this long without progress; a younger one may still be running. */
const ABANDONED_AFTER_MS = 5 * 60_000;

export class IdempotencyRecords {
  readonly #db: Kysely<OperationalSchema>;
  readonly #clock: Clock;

  constructor(db: Kysely<OperationalSchema>, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  /** A hash of the request that ignores key order and absent fields, so the same retry always matches. */
  static hashRequest(request: Record<string, unknown>): string {
    const present = Object.fromEntries(Object.entries(request).filter(([, value]) => value !== undefined));
    return createHash('sha256').update(canonicalJson(present)).digest('hex');
  }

  /** Claims `key` for a run of `command` with this request. */
  async claim<Progress, Result>(
    key: string,
    command: string,
    requestHash: string,
  ): Promise<IdempotencyClaim<Progress, Result>> {
    const now = this.#clock().toISOString();
    const inserted = await this.#db
      .insertInto('idempotency_records')
      .values({
        idempotency_key: key,
        command,
        request_hash: requestHash,
        status: 'in_progress',
        result: null,
        created_at: now,
        updated_at: now,
      })
      .onConflict((conflict) => conflict.column('idempotency_key').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return { kind: 'new' };

    const record = await this.#db
      .selectFrom('idempotency_records')
      .selectAll()
      .where('idempotency_key', '=', key)
      .executeTakeFirstOrThrow();
    if (record.command !== command || record.request_hash !== requestHash) {
      throw new IdempotencyConflictError(
        `idempotency key "${key}" was already used for a different request; use a new key`,
      );
    }
    if (record.status === 'completed')
      return { kind: 'completed', result: JSON.parse(record.result ?? 'null') as Result };
    if (
      record.status === 'in_progress' &&
      Date.parse(record.updated_at) > this.#clock().getTime() - ABANDONED_AFTER_MS
    ) {
      throw new IdempotencyConflictError(
        `a command with idempotency key "${key}" is still running (last progress ${record.updated_at}); retry later`,
      );
    }
    await this.#db
      .updateTable('idempotency_records')
      .set({ status: 'in_progress', updated_at: now })
      .where('idempotency_key', '=', key)
      .execute();
    return {
      kind: 'abandoned',
      progress: record.result ? ((JSON.parse(record.result) as { progress?: Progress }).progress ?? null) : null,
    };
  }

  /** Records what the run has done so far (nothing secret). */
  async progress(key: string, progress: unknown): Promise<void> {
    await this.#db
      .updateTable('idempotency_records')
      .set({ result: JSON.stringify({ progress }), updated_at: this.#clock().toISOString() })
      .where('idempotency_key', '=', key)
      .execute();
  }

  async complete(key: string, result: unknown): Promise<void> {
    await this.#db
      .updateTable('idempotency_records')
      .set({ status: 'completed', result: JSON.stringify(result), updated_at: this.#clock().toISOString() })
      .where('idempotency_key', '=', key)
      .execute();
  }

  /** A run that failed and rolled back: a retry starts afresh. */
  async fail(key: string, error: string): Promise<void> {
    await this.#db
      .updateTable('idempotency_records')
      .set({
        status: 'failed',
        result: JSON.stringify({ error, progress: null }),
        updated_at: this.#clock().toISOString(),
      })
      .where('idempotency_key', '=', key)
      .execute();
  }

  /** What is recorded under `key`, without claiming it (bulk issuance checks a file's keys before it starts). */
  async peek(key: string): Promise<{ command: string; requestHash: string; status: string } | undefined> {
    const record = await this.#db
      .selectFrom('idempotency_records')
      .select(['command', 'request_hash', 'status'])
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    return record ? { command: record.command, requestHash: record.request_hash, status: record.status } : undefined;
  }
}
