// The durable job queue (docs/scale-out.md): background work in the operational store that any replica may claim.
// A claim takes a lease (owner + expiry) in one statement — `UPDATE ... WHERE job_id IN (SELECT ... FOR UPDATE SKIP
// LOCKED) RETURNING *` on PostgreSQL, the same UPDATE without the row locks on SQLite, whose single writer already
// serialises claimers — so two replicas never hold one job, and a job whose holder died is claimable again once its
// lease runs out. Every later write is fenced on the lease owner: a replica that lost its lease cannot finish a job.
// Payloads are JSON of ids and names, never key material.
import { randomUUID } from 'node:crypto';
import { type Kysely, type Selectable, sql, type UpdateObject } from 'kysely';
import type { JobsTable, OperationalSchema } from '../db/operational-schema.js';
import { dialectOf } from '../db/operational-store.js';
import { writeTransaction } from '../db/write-transaction.js';
import type { Clock } from '../runtime/clock.js';

export type JobRow = Selectable<JobsTable>;
export type JobState = JobsTable['state'];

export interface EnqueueInput {
  kind: string;
  payload: Record<string, unknown>;
  /** Not before this instant (default now). */
  runAt?: Date;
  /** At most one open (queued or running) job per key: a second enqueue with it is dropped. */
  dedupeKey?: string;
  /** Failed runs before the job is given up as `failed` (default 10). */
  maxAttempts?: number;
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_JOB_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 5 * 60_000 };
const DEFAULT_MAX_ATTEMPTS = 10;
/** Rows per INSERT of a batch enqueue, ids per lease renewal: far below both engines' bound-parameter limits. */
const ENQUEUE_CHUNK = 400;

export class JobQueue {
  readonly #db: Kysely<OperationalSchema>;
  readonly #clock: Clock;
  readonly #postgres: boolean;

  constructor(db: Kysely<OperationalSchema>, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
    this.#postgres = dialectOf(db) === 'postgres';
  }

  /** Adds one job; undefined when `dedupeKey` names a job still open (nothing is added). */
  async enqueue(input: EnqueueInput): Promise<JobRow | undefined> {
    const [row] = await this.enqueueMany([input]);
    return row;
  }

  /** Adds jobs in few statements; returns those added (the ones whose dedupe key was open are left out). */
  async enqueueMany(inputs: readonly EnqueueInput[], db: Kysely<OperationalSchema> = this.#db): Promise<JobRow[]> {
    const added: JobRow[] = [];
    for (let start = 0; start < inputs.length; start += ENQUEUE_CHUNK) {
      const rows = inputs.slice(start, start + ENQUEUE_CHUNK).map((input) => this.#newRow(input));
      // DO NOTHING without a target skips a row that any unique index refuses: here the open-dedupe-key index.
      added.push(
        ...(await db
          .insertInto('jobs')
          .values(rows)
          .onConflict((conflict) => conflict.doNothing())
          .returningAll()
          .execute()),
      );
    }
    return added;
  }

  /**
   * Enqueues `input` for the tick `tick` of `schedule` unless some replica did already: the (schedule, tick) row and
   * the job are written in one transaction, and the primary key on (schedule, tick) lets one writer through.
   */
  async enqueueForTick(
    schedule: string,
    tick: string,
    replicaId: string,
    input: EnqueueInput,
  ): Promise<JobRow | undefined> {
    return writeTransaction(this.#db, async (trx) => {
      const row = this.#newRow(input);
      const taken = await trx
        .insertInto('job_ticks')
        .values({ schedule, tick, job_id: row.job_id, replica_id: replicaId, created_at: row.created_at })
        .onConflict((conflict) => conflict.columns(['schedule', 'tick']).doNothing())
        .returning('tick')
        .executeTakeFirst();
      if (!taken) return undefined;
      const [job] = await this.enqueueMany([{ ...input, runAt: new Date(row.run_at) }], trx);
      return job;
    });
  }

  /**
   * Claims up to `limit` jobs of `kinds` that may run now — queued and due, or running under a lease that expired
   * (its holder died or hung) — for `owner`, for `leaseMs`. Each claim counts an attempt.
   */
  async claim(owner: string, kinds: readonly string[], limit: number, leaseMs: number): Promise<JobRow[]> {
    if (kinds.length === 0 || limit <= 0) return [];
    const now = this.#clock();
    const nowText = now.toISOString();
    const candidates = this.#db
      .selectFrom('jobs')
      .select('job_id')
      .where('kind', 'in', [...kinds])
      .where((eb) =>
        eb.or([
          eb.and([eb('state', '=', 'queued'), eb('run_at', '<=', nowText)]),
          eb.and([eb('state', '=', 'running'), eb('lease_expires_at', '<=', nowText)]),
        ]),
      )
      .orderBy('run_at')
      .orderBy('job_id')
      .limit(limit);
    // PostgreSQL: concurrent claimers skip each other's candidate rows instead of queueing behind them.
    const locked = this.#postgres ? candidates.forUpdate().skipLocked() : candidates;
    return this.#db
      .updateTable('jobs')
      .set({
        state: 'running',
        lease_owner: owner,
        lease_expires_at: new Date(now.getTime() + leaseMs).toISOString(),
        attempts: sql<number>`attempts + 1`,
        updated_at: nowText,
      })
      .where('job_id', 'in', locked)
      .returningAll()
      .execute();
  }

  /** Extends the lease of a job `owner` holds; false when it is no longer theirs (taken over after expiry). */
  async renew(jobId: string, owner: string, leaseMs: number): Promise<boolean> {
    const now = this.#clock();
    const result = await this.#db
      .updateTable('jobs')
      .set({ lease_expires_at: new Date(now.getTime() + leaseMs).toISOString(), updated_at: now.toISOString() })
      .where('job_id', '=', jobId)
      .where('state', '=', 'running')
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Extends, in one statement per chunk, the leases of the jobs `owner` holds among `jobIds`, and returns them with
   * the attempt count of the claim that holds each now: a job left out, or back under a later claim (its `attempts`
   * moved on), is no longer the caller's run. A worker renews all its jobs this way — one UPDATE per lease third
   * instead of one per running job.
   */
  async renewMany(
    jobIds: readonly string[],
    owner: string,
    leaseMs: number,
  ): Promise<Array<{ job_id: string; attempts: number }>> {
    if (jobIds.length === 0) return [];
    const now = this.#clock();
    const set = { lease_expires_at: new Date(now.getTime() + leaseMs).toISOString(), updated_at: now.toISOString() };
    const held: Array<{ job_id: string; attempts: number }> = [];
    for (let start = 0; start < jobIds.length; start += ENQUEUE_CHUNK) {
      const rows = await this.#db
        .updateTable('jobs')
        .set(set)
        .where('job_id', 'in', jobIds.slice(start, start + ENQUEUE_CHUNK))
        .where('state', '=', 'running')
        .where('lease_owner', '=', owner)
        .returning(['job_id', 'attempts'])
        .execute();
      for (const row of rows) held.push({ job_id: row.job_id, attempts: Number(row.attempts) });
    }
    return held;
  }

  /** Marks the job done with its result; false when `owner` no longer holds it (the result is then dropped). */
  async complete(jobId: string, owner: string, result: unknown): Promise<boolean> {
    const now = this.#clock().toISOString();
    return this.#finishHeld(jobId, owner, {
      state: 'done',
      result: result === undefined ? null : JSON.stringify(result),
      failure: null,
      finished_at: now,
    });
  }

  /**
   * A failed run: queued again after a back-off doubling per attempt (or at `retryAt`), or `failed` once it has
   * had `max_attempts` runs. False when `owner` no longer holds it.
   */
  async fail(
    job: Pick<JobRow, 'job_id' | 'attempts' | 'max_attempts'>,
    owner: string,
    failure: string,
    options: { retryAt?: Date; backoff?: BackoffOptions } = {},
  ): Promise<boolean> {
    const now = this.#clock();
    if (job.attempts >= job.max_attempts) {
      return this.#finishHeld(job.job_id, owner, { state: 'failed', failure, finished_at: now.toISOString() });
    }
    const runAt = options.retryAt ?? new Date(now.getTime() + backoffMs(job.attempts, options.backoff));
    return this.#finishHeld(job.job_id, owner, { state: 'queued', failure, run_at: runAt.toISOString() });
  }

  /**
   * Puts a held job back to wait until `runAt` without counting the run as a failed attempt (a rotation deferred
   * by a provider's 429, a row another worker holds), or at once on shutdown (`runAt` omitted).
   */
  async release(jobId: string, owner: string, runAt?: Date, note?: string): Promise<boolean> {
    return this.#finishHeld(jobId, owner, {
      state: 'queued',
      attempts: sql<number>`case when attempts > 0 then attempts - 1 else 0 end`,
      ...(runAt ? { run_at: runAt.toISOString() } : {}),
      ...(note !== undefined ? { failure: note } : {}),
    });
  }

  async get(jobId: string): Promise<JobRow | undefined> {
    return this.#db.selectFrom('jobs').selectAll().where('job_id', '=', jobId).executeTakeFirst();
  }

  /** Jobs oldest first, or newest first (`keyledger jobs`). */
  async list(
    filter: { kind?: string; states?: JobState[]; limit?: number; newestFirst?: boolean } = {},
  ): Promise<JobRow[]> {
    let query = this.#db.selectFrom('jobs').selectAll();
    if (filter.kind) query = query.where('kind', '=', filter.kind);
    if (filter.states?.length) query = query.where('state', 'in', filter.states);
    const order = filter.newestFirst ? 'desc' : 'asc';
    return query
      .orderBy('created_at', order)
      .orderBy('job_id', order)
      .limit(filter.limit ?? 1000)
      .execute();
  }

  /** Jobs per kind and state. */
  async counts(): Promise<Array<{ kind: string; state: JobState; count: number }>> {
    const rows = await this.#db
      .selectFrom('jobs')
      .select(['kind', 'state', (eb) => eb.fn.countAll<number>().as('count')])
      .groupBy(['kind', 'state'])
      .execute();
    return rows.map((row) => ({ kind: row.kind, state: row.state, count: Number(row.count) }));
  }

  /** Finished jobs older than `before` are deleted (their ticks stay: a tick is never run twice). */
  async prune(before: Date): Promise<number> {
    const result = await this.#db
      .deleteFrom('jobs')
      .where('state', 'in', ['done', 'failed'])
      .where('finished_at', '<', before.toISOString())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async #finishHeld(jobId: string, owner: string, set: UpdateObject<OperationalSchema, 'jobs'>): Promise<boolean> {
    const result = await this.#db
      .updateTable('jobs')
      .set({
        ...set,
        lease_owner: null,
        lease_expires_at: null,
        updated_at: this.#clock().toISOString(),
      })
      .where('job_id', '=', jobId)
      .where('state', '=', 'running')
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  #newRow(input: EnqueueInput): JobsTable {
    const now = this.#clock().toISOString();
    return {
      job_id: randomUUID(),
      kind: input.kind,
      payload: JSON.stringify(input.payload),
      state: 'queued',
      run_at: (input.runAt ?? this.#clock()).toISOString(),
      attempts: 0,
      max_attempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      dedupe_key: input.dedupeKey ?? null,
      lease_owner: null,
      lease_expires_at: null,
      result: null,
      failure: null,
      created_at: now,
      updated_at: now,
      finished_at: null,
    };
  }
}

/** The wait after the `attempts`-th failed run: base x 2^(attempts-1), capped, with up to 20% jitter. */
export function backoffMs(attempts: number, options: BackoffOptions = DEFAULT_JOB_BACKOFF): number {
  const plain = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(plain * (0.8 + Math.random() * 0.2));
}
