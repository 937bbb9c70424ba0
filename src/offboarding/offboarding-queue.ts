// Offboarding off the request path (docs/offboarding.md): the departure listener the server registers. Hearing a
// departure opens the person's job in the journal (offboarding-jobs.ts) — that row is what makes the work durable:
// a job still `running` after a crash is queued again at the next start (queueUnfinished) — and queues the run, so
// the SCIM response or Okta's 3-second hook answer never waits for rotations. A few jobs run side by side; the
// workflow itself keeps one run per person and the rotation scheduler the providers' limits.
import type { DirectoryPerson, DirectorySignal } from '../directory/identity-source.js';
import type { Logger } from '../telemetry/logger.js';
import type { OffboardingWorkflow } from './offboarding-workflow.js';

interface Queued {
  person: DirectoryPerson;
  signal: DirectorySignal;
}

export class OffboardingQueue {
  readonly #workflow: OffboardingWorkflow;
  readonly #logger: Logger;
  readonly #actor: string;
  readonly #concurrency: number;
  readonly #waiting: Queued[] = [];
  /** Emails waiting or running: a person queued twice runs once (the workflow finds a finished job unchanged). */
  readonly #queued = new Set<string>();
  readonly #running = new Set<Promise<void>>();
  #closed = false;
  #idle: Array<() => void> = [];

  constructor(options: { workflow: OffboardingWorkflow; logger: Logger; actor: string; concurrency?: number }) {
    this.#workflow = options.workflow;
    this.#logger = options.logger;
    this.#actor = options.actor;
    this.#concurrency = Math.max(1, options.concurrency ?? 4);
  }

  /** The DepartureListener: records the job, queues the run, returns at once. */
  readonly onDeparture = async (person: DirectoryPerson, signal: DirectorySignal): Promise<void> => {
    await this.#workflow.jobs.open(person, signal, this.#actor);
    this.enqueue(person, signal);
  };

  /** Queues every job a crash or a failed step left unfinished (the server's start). */
  async queueUnfinished(): Promise<number> {
    const jobs = [
      ...(await this.#workflow.jobs.list({ state: 'running' })),
      ...(await this.#workflow.jobs.list({ state: 'failed' })),
    ];
    for (const job of jobs) this.enqueue(job.person, job.signal);
    return jobs.length;
  }

  enqueue(person: DirectoryPerson, signal: DirectorySignal): void {
    const email = person.email.toLowerCase();
    if (this.#closed || this.#queued.has(email)) return;
    this.#queued.add(email);
    this.#waiting.push({ person, signal });
    this.#pump();
  }

  /** Resolves when nothing is waiting or running (tests, benches). */
  idle(): Promise<void> {
    if (this.#waiting.length === 0 && this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Takes no more work and waits for the runs in flight; what was still waiting stays `running` in the journal. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#waiting.length = 0;
    await Promise.allSettled([...this.#running]);
  }

  #pump(): void {
    while (!this.#closed && this.#running.size < this.#concurrency && this.#waiting.length > 0) {
      const next = this.#waiting.shift()!;
      const run = this.#run(next).finally(() => {
        this.#running.delete(run);
        this.#queued.delete(next.person.email.toLowerCase());
        this.#pump();
        if (this.#waiting.length === 0 && this.#running.size === 0)
          for (const resolve of this.#idle.splice(0)) resolve();
      });
      this.#running.add(run);
    }
  }

  async #run({ person, signal }: Queued): Promise<void> {
    try {
      const report = await this.#workflow.offboard(person, signal);
      this.#logger.info({ email: report.email, state: report.state, ...report.counts }, 'offboarding finished');
    } catch (error) {
      // The job stays open in the journal; the next start (or `offboard --resume`) finishes it.
      this.#logger.error({ email: person.email, error: (error as Error).message }, 'offboarding run failed');
    }
  }
}
