// What a kind of job is: a name and a handler, registered by the composition root (src/app/replica-worker.ts) in a
// JobKindTable, so the queue and the worker name no service. A handler must be safe to run again after a crash at
// any point (its holder died, the lease ran out, another replica takes the job): the services it calls journal
// their own steps (the rotation journal, the offboarding journal).
import type { JobRow } from './job-queue.js';

export interface JobContext {
  job: JobRow;
  /** Aborted when the replica stops or the job's lease is lost: finish the step in flight and return. */
  signal: AbortSignal;
  replicaId: string;
}

/** Returned by a handler: put the job back to wait until `at`, without counting a failed attempt. */
export class RetryJobAt {
  constructor(
    readonly at: Date,
    readonly reason: string,
  ) {}
}

/** Returned by a handler interrupted by shutdown: the job is given back as it stands, for any replica to resume. */
export class JobInterrupted {
  constructor(readonly reason: string) {}
}

export interface JobKind<Payload = Record<string, unknown>> {
  kind: string;
  /** Runs the job; the value returned (JSON, no secrets) is its result. Throwing fails the attempt (retried). */
  run(payload: Payload, context: JobContext): Promise<unknown>;
  /** Failed runs before the job is given up (default: the queue's). */
  maxAttempts?: number;
}

export class JobKindTable {
  readonly #kinds = new Map<string, JobKind>();

  register<Payload>(kind: JobKind<Payload>): this {
    if (this.#kinds.has(kind.kind)) throw new Error(`job kind ${kind.kind} is registered twice`);
    this.#kinds.set(kind.kind, kind as unknown as JobKind);
    return this;
  }

  get(kind: string): JobKind | undefined {
    return this.#kinds.get(kind);
  }

  names(): string[] {
    return [...this.#kinds.keys()].sort();
  }
}
