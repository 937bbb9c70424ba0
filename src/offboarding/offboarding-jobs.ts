// The offboarding journal (migration 0014_offboarding): one job per leaver, keyed by email, and its steps, each
// recorded when it completes. A second departure signal for the same person finds the job instead of starting one;
// a crashed job is picked up from its first step not done (src/offboarding/offboarding-workflow.ts).
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import type { DirectoryPerson, DirectorySignal } from '../directory/identity-source.js';
import type { Clock } from '../runtime/clock.js';

export type JobState = 'running' | 'done' | 'failed';
/** `left`: handed to a person (a ticket); `skipped`: nothing to do after all (already done by someone else). */
export type StepState = 'pending' | 'done' | 'skipped' | 'left' | 'failed';

export interface OffboardingJobsTable {
  job_id: string;
  email: string;
  state: JobState;
  person: string;
  signal: string;
  actor: string;
  attempts: number;
  failure: string | null;
  report: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface OffboardingStepsTable {
  job_id: string;
  step: string;
  position: number;
  state: StepState;
  detail: string | null;
  updated_at: string;
}

export type OffboardingTables = {
  offboarding_jobs: OffboardingJobsTable;
  offboarding_steps: OffboardingStepsTable;
};

export interface OffboardingJob {
  jobId: string;
  email: string;
  state: JobState;
  person: DirectoryPerson;
  signal: DirectorySignal;
  actor: string;
  attempts: number;
  failure?: string;
  report?: unknown;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
}

export interface OffboardingStep {
  step: string;
  position: number;
  state: StepState;
  detail: Record<string, unknown>;
  updatedAt: string;
}

export class OffboardingJobs {
  readonly #db: Kysely<OperationalSchema & OffboardingTables>;
  readonly #clock: Clock;

  constructor(db: Kysely<OperationalSchema>, clock: Clock) {
    this.#db = db.withTables<OffboardingTables>();
    this.#clock = clock;
  }

  /** The person's job, created when there is none; `created` says which. A finished job is returned as it is. */
  async open(
    person: DirectoryPerson,
    signal: DirectorySignal,
    actor: string,
  ): Promise<{ job: OffboardingJob; created: boolean }> {
    const email = person.email.toLowerCase();
    const existing = await this.get(email);
    if (existing) return { job: existing, created: false };
    const now = this.#clock().toISOString();
    try {
      await this.#db
        .insertInto('offboarding_jobs')
        .values({
          job_id: randomUUID(),
          email,
          state: 'running',
          person: JSON.stringify(person),
          signal: JSON.stringify(signal),
          actor,
          attempts: 0,
          failure: null,
          report: null,
          created_at: now,
          updated_at: now,
          finished_at: null,
        })
        .execute();
    } catch (error) {
      // Another process opened it between our read and insert (the email is unique): join that job.
      const raced = await this.get(email);
      if (raced) return { job: raced, created: false };
      throw error;
    }
    return { job: (await this.get(email))!, created: true };
  }

  async get(email: string): Promise<OffboardingJob | undefined> {
    const row = await this.#db
      .selectFrom('offboarding_jobs')
      .selectAll()
      .where('email', '=', email.trim().toLowerCase())
      .executeTakeFirst();
    return row ? jobOf(row) : undefined;
  }

  async list(filter: { state?: JobState } = {}): Promise<OffboardingJob[]> {
    let query = this.#db.selectFrom('offboarding_jobs').selectAll();
    if (filter.state) query = query.where('state', '=', filter.state);
    return (await query.orderBy('created_at').orderBy('email').execute()).map(jobOf);
  }

  async steps(jobId: string): Promise<OffboardingStep[]> {
    const rows = await this.#db
      .selectFrom('offboarding_steps')
      .selectAll()
      .where('job_id', '=', jobId)
      .orderBy('position')
      .execute();
    return rows.map((row) => ({
      step: row.step,
      position: row.position,
      state: row.state,
      detail: row.detail ? (JSON.parse(row.detail) as Record<string, unknown>) : {},
      updatedAt: row.updated_at,
    }));
  }

  /** Adds steps not yet planned (a step already there keeps its state), after the last position. */
  async planSteps(jobId: string, steps: readonly string[]): Promise<void> {
    const known = new Set((await this.steps(jobId)).map((step) => step.step));
    const fresh = steps.filter((step, index) => !known.has(step) && steps.indexOf(step) === index);
    if (!fresh.length) return;
    const last = await this.#db
      .selectFrom('offboarding_steps')
      .select((eb) => eb.fn.max('position').as('max'))
      .where('job_id', '=', jobId)
      .executeTakeFirst();
    const start = Number(last?.max ?? -1) + 1;
    const now = this.#clock().toISOString();
    for (let offset = 0; offset < fresh.length; offset += 500) {
      await this.#db
        .insertInto('offboarding_steps')
        .values(
          fresh.slice(offset, offset + 500).map((step, index) => ({
            job_id: jobId,
            step,
            position: start + offset + index,
            state: 'pending' as const,
            detail: null,
            updated_at: now,
          })),
        )
        .onConflict((conflict) => conflict.columns(['job_id', 'step']).doNothing())
        .execute();
    }
  }

  async completeStep(jobId: string, step: string, state: StepState, detail: Record<string, unknown>): Promise<void> {
    await this.#db
      .updateTable('offboarding_steps')
      .set({ state, detail: JSON.stringify(detail), updated_at: this.#clock().toISOString() })
      .where('job_id', '=', jobId)
      .where('step', '=', step)
      .execute();
  }

  /** Marks a run of the job begun (a finished job runs again when a new key of the leaver turned up). */
  async begin(jobId: string): Promise<void> {
    await this.#db
      .updateTable('offboarding_jobs')
      .set((eb) => ({
        state: 'running',
        attempts: eb('attempts', '+', 1),
        failure: null,
        updated_at: this.#clock().toISOString(),
      }))
      .where('job_id', '=', jobId)
      .execute();
  }

  async finish(jobId: string, state: 'done' | 'failed', report: unknown, failure?: string): Promise<void> {
    const now = this.#clock().toISOString();
    await this.#db
      .updateTable('offboarding_jobs')
      .set({
        state,
        report: JSON.stringify(report),
        failure: failure ?? null,
        updated_at: now,
        finished_at: state === 'done' ? now : null,
      })
      .where('job_id', '=', jobId)
      .execute();
  }
}

function jobOf(row: OffboardingJobsTable): OffboardingJob {
  return {
    jobId: row.job_id,
    email: row.email,
    state: row.state,
    person: JSON.parse(row.person) as DirectoryPerson,
    signal: JSON.parse(row.signal) as DirectorySignal,
    actor: row.actor,
    attempts: Number(row.attempts),
    ...(row.failure ? { failure: row.failure } : {}),
    ...(row.report ? { report: JSON.parse(row.report) as unknown } : {}),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.finished_at ? { finishedAt: row.finished_at } : {}),
  };
}
