// A replica's worker loop (docs/scale-out.md): claims jobs of the kinds it knows, at most `concurrency` at once,
// renews the leases of all the jobs it runs in one statement every third of the lease, and records the outcome —
// done, retried after a back-off, given back (RetryJobAt, JobInterrupted) or failed for good. A lease that cannot be
// renewed (another replica, or a later claim of this one, took the job after it expired) aborts the handler's
// signal, and nothing it returns is recorded.
import type { Clock } from '../runtime/clock.js';
import { JobInterrupted, type JobKindTable, RetryJobAt } from './job-kind.js';
import { type BackoffOptions, DEFAULT_JOB_BACKOFF, type JobQueue, type JobRow } from './job-queue.js';

export interface JobWorkerOptions {
  queue: JobQueue;
  kinds: JobKindTable;
  replicaId: string;
  clock: Clock;
  /** Jobs run side by side (default 8). */
  concurrency?: number;
  /** A claim's lease; renewed every third of it (default 60 s). */
  leaseMs?: number;
  /** How long an idle worker waits before claiming again (default 1 s). */
  pollMs?: number;
  backoff?: BackoffOptions;
  log?: (fields: Record<string, unknown>, message: string) => void;
}

export interface JobWorkerStats {
  claimed: number;
  done: number;
  retried: number;
  failed: number;
  released: number;
  leaseLost: number;
}

/** A job this worker runs: the claim it holds (`attempts` tells it from a later claim of the same job) and its fate. */
interface HeldRun {
  jobId: string;
  attempts: number;
  lost: AbortController;
}

export class JobWorker {
  readonly #options: Required<Omit<JobWorkerOptions, 'log'>> & Pick<JobWorkerOptions, 'log'>;
  readonly #running = new Set<Promise<void>>();
  /** The runs whose leases the renewal timer extends; the timer runs only while there is one. */
  readonly #held = new Set<HeldRun>();
  #renewal: ReturnType<typeof setInterval> | undefined;
  readonly #stop = new AbortController();
  readonly stats: JobWorkerStats = { claimed: 0, done: 0, retried: 0, failed: 0, released: 0, leaseLost: 0 };
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #woken = false;

  constructor(options: JobWorkerOptions) {
    this.#options = {
      concurrency: 8,
      leaseMs: 60_000,
      pollMs: 1_000,
      backoff: DEFAULT_JOB_BACKOFF,
      ...options,
    };
  }

  /** Starts the loop; `stop()` ends it. */
  start(): void {
    this.#loop ??= this.#run().catch((error: unknown) => {
      this.#options.log?.({ error: (error as Error).message }, 'the job worker stopped on an error');
    });
  }

  /** Claims no more; handlers in flight see their signal aborted and their jobs are given back or finished. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wake?.();
    await this.#loop;
    await Promise.allSettled([...this.#running]);
  }

  /** Claims now instead of at the next poll: a job was just added in this process. */
  wake(): void {
    if (this.#wake) this.#wake();
    else this.#woken = true; // mid-claim: the loop claims again instead of waiting
  }

  /** Resolves once the loop is idle with nothing in flight (tests). */
  get inFlight(): number {
    return this.#running.size;
  }

  async #run(): Promise<void> {
    const { queue, kinds, replicaId, concurrency, leaseMs, pollMs } = this.#options;
    const names = kinds.names();
    while (!this.#stop.signal.aborted) {
      const free = concurrency - this.#running.size;
      let claimed: JobRow[] = [];
      if (free > 0) {
        try {
          claimed = await queue.claim(replicaId, names, free, leaseMs);
        } catch (error) {
          // The store is unreachable for a moment (a failover, a terminated connection): try again after a poll.
          this.#options.log?.({ error: (error as Error).message }, 'claiming jobs failed');
        }
      }
      for (const job of claimed) {
        this.stats.claimed += 1;
        const run = this.#runJob(job).finally(() => {
          this.#running.delete(run);
          this.#wake?.();
        });
        this.#running.add(run);
      }
      // A full batch: there may be more due at once. Otherwise wait for a free slot or the poll.
      if (claimed.length > 0 && claimed.length === free) continue;
      if (this.#woken) {
        this.#woken = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#wake = done;
      });
      this.#wake = undefined;
    }
  }

  async #runJob(job: JobRow): Promise<void> {
    const { queue, kinds, replicaId, backoff, log } = this.#options;
    const kind = kinds.get(job.kind);
    const held: HeldRun = { jobId: job.job_id, attempts: Number(job.attempts), lost: new AbortController() };
    const signal = AbortSignal.any([this.#stop.signal, held.lost.signal]);
    this.#hold(held);
    const leaseLost = () => held.lost.signal.aborted;
    try {
      if (!kind) throw new Error(`no handler for job kind ${job.kind}`);
      const outcome = await kind.run(JSON.parse(job.payload) as Record<string, unknown>, { job, signal, replicaId });
      if (leaseLost()) {
        this.stats.leaseLost += 1;
        return;
      }
      if (outcome instanceof RetryJobAt) {
        this.stats.retried += 1;
        await queue.release(job.job_id, replicaId, outcome.at, outcome.reason);
      } else if (outcome instanceof JobInterrupted) {
        this.stats.released += 1;
        await queue.release(job.job_id, replicaId, undefined, outcome.reason);
      } else {
        this.stats.done += 1;
        await queue.complete(job.job_id, replicaId, outcome);
      }
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      if (leaseLost()) {
        this.stats.leaseLost += 1;
        return;
      }
      const attempts = Number(job.attempts);
      const max = kind?.maxAttempts ?? Number(job.max_attempts);
      if (attempts >= max) this.stats.failed += 1;
      else this.stats.retried += 1;
      log?.({ job: job.job_id, kind: job.kind, attempts, error: message }, 'job run failed');
      await queue
        .fail({ job_id: job.job_id, attempts, max_attempts: max }, replicaId, message, { backoff })
        .catch(() => undefined); // the lease then expires and another run retries it
    } finally {
      this.#release(held);
    }
  }

  #hold(run: HeldRun): void {
    this.#held.add(run);
    // A run claimed just after a renewal is renewed at the next one, within a third of its lease, as before.
    this.#renewal ??= setInterval(() => this.#renewHeld(), Math.max(50, Math.floor(this.#options.leaseMs / 3)));
  }

  #release(run: HeldRun): void {
    this.#held.delete(run);
    if (this.#held.size === 0 && this.#renewal !== undefined) {
      clearInterval(this.#renewal);
      this.#renewal = undefined;
    }
  }

  /**
   * One statement for every lease this worker holds. A run whose job did not come back, or came back under another
   * claim (a later claim of this replica after the lease ran out), lost its lease: its signal aborts.
   */
  #renewHeld(): void {
    const { queue, replicaId, leaseMs } = this.#options;
    const runs = [...this.#held];
    const ids = [...new Set(runs.map((run) => run.jobId))].sort();
    queue.renewMany(ids, replicaId, leaseMs).then(
      (rows) => {
        const attemptsById = new Map(rows.map((row) => [row.job_id, row.attempts]));
        for (const run of runs) {
          if (attemptsById.get(run.jobId) !== run.attempts && !run.lost.signal.aborted) run.lost.abort();
        }
      },
      () => undefined, // unreachable for a moment: the next renewal tries again, well before expiry
    );
  }
}
