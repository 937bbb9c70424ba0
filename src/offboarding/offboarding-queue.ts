// Offboarding off the request path (docs/offboarding.md, docs/scale-out.md): the departure listener the server
// registers. Hearing a departure puts an `offboarding.depart` job in the fleet's durable queue (offboarding-depart-job.ts)
// and opens the person's job in the offboarding journal (offboarding-jobs.ts), so the SCIM response or Okta's 3-second
// hook answer never waits for rotations, and any replica's worker runs it — a replica that dies holding it loses it to
// another once its lease runs out. The queue job comes first: if the process dies between the two writes, the job's
// run opens the journal itself.
import type { DirectoryPerson, DirectorySignal } from '../directory/identity-source.js';
import type { JobQueue } from '../jobs/job-queue.js';
import type { Clock } from '../runtime/clock.js';
import { OFFBOARDING_DEPART, offboardingDepartJob } from './offboarding-depart-job.js';
import type { OffboardingWorkflow } from './offboarding-workflow.js';

/** How often `idle()` looks at the queue. */
const IDLE_POLL_MS = 25;

export class OffboardingQueue {
  readonly #workflow: OffboardingWorkflow;
  readonly #jobs: JobQueue;
  readonly #clock: Clock;
  readonly #actor: string;
  readonly #onEnqueued: () => void;
  readonly #replicaId: string | undefined;

  constructor(options: {
    workflow: OffboardingWorkflow;
    jobs: JobQueue;
    clock: Clock;
    actor: string;
    /** The lease owner this process's worker writes, when it runs one (what `idle()` waits for). */
    replicaId?: string;
    /** Hears each job added (this process's worker claims it at once instead of at its next poll). */
    onEnqueued?: () => void;
  }) {
    this.#workflow = options.workflow;
    this.#jobs = options.jobs;
    this.#clock = options.clock;
    this.#actor = options.actor;
    this.#onEnqueued = options.onEnqueued ?? (() => undefined);
    this.#replicaId = options.replicaId;
  }

  /** The DepartureListener: queues the run and records the journal's job, returns at once. */
  readonly onDeparture = async (person: DirectoryPerson, signal: DirectorySignal): Promise<void> => {
    await this.enqueue(person, signal);
    await this.#workflow.jobs.open(person, signal, this.#actor);
  };

  /** Queues a run for the person; false when one is already waiting or running (it does the same work). */
  async enqueue(person: DirectoryPerson, signal: DirectorySignal): Promise<boolean> {
    const added = await this.#jobs.enqueue(offboardingDepartJob(person, signal));
    if (added) this.#onEnqueued();
    return added !== undefined;
  }

  /**
   * Resolves when no `offboarding.depart` job is claimable now (queued and due, or running under an expired lease)
   * and none runs on this process's worker (tests, benches). A run retried after a back-off, or held by another live
   * replica, does not count.
   */
  async idle(): Promise<void> {
    for (;;) {
      const open = await this.#jobs.list({ kind: OFFBOARDING_DEPART, states: ['queued', 'running'] });
      const now = this.#clock().getTime();
      const pending = open.some((job) =>
        job.state === 'queued'
          ? Date.parse(job.run_at) <= now
          : job.lease_owner === this.#replicaId || Date.parse(job.lease_expires_at ?? '') <= now,
      );
      if (!pending) return;
      await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
    }
  }
}
