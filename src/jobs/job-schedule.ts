// Scheduled work (docs/scale-out.md): every replica computes the same ticks of a cron schedule (UTC) and, at each,
// tries to enqueue the schedule's job for that tick; the (schedule, tick) row lets exactly one through, so the work
// runs once per tick across the fleet however many replicas are up — and still runs while any one is.
import { abortableSleep } from '../runtime/abortable-sleep.js';
import type { Clock } from '../runtime/clock.js';
import { nextCronTick } from '../runtime/cron-schedule.js';
import type { EnqueueInput, JobQueue } from './job-queue.js';

export interface ScheduledJob {
  /** The schedule's name, part of the tick's key (e.g. `rotation.due`). */
  name: string;
  /** A cron expression, UTC: 5 fields, or 6 with seconds first. */
  cron: string;
  job: EnqueueInput;
}

export class JobScheduler {
  readonly #queue: JobQueue;
  readonly #clock: Clock;
  readonly #replicaId: string;
  readonly #schedules: readonly ScheduledJob[];
  readonly #log: (fields: Record<string, unknown>, message: string) => void;

  constructor(options: {
    queue: JobQueue;
    clock: Clock;
    replicaId: string;
    schedules: readonly ScheduledJob[];
    log?: (fields: Record<string, unknown>, message: string) => void;
  }) {
    this.#queue = options.queue;
    this.#clock = options.clock;
    this.#replicaId = options.replicaId;
    this.#schedules = options.schedules;
    this.#log = options.log ?? (() => undefined);
  }

  /** Enqueues the tick `tick` of a schedule if no replica has; true when this call did. */
  async fire(schedule: ScheduledJob, tick: Date): Promise<boolean> {
    const job = await this.#queue.enqueueForTick(schedule.name, tick.toISOString(), this.#replicaId, {
      ...schedule.job,
      payload: { ...schedule.job.payload, tick: tick.toISOString() },
    });
    return job !== undefined;
  }

  /** Runs every schedule until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all(this.#schedules.map((schedule) => this.#runOne(schedule, signal)));
  }

  async #runOne(schedule: ScheduledJob, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const tick = nextCronTick(schedule.cron, this.#clock());
      await abortableSleep(tick.getTime() - this.#clock().getTime(), signal);
      if (signal.aborted) return;
      try {
        if (await this.fire(schedule, tick)) this.#log({ schedule: schedule.name, tick: tick.toISOString() }, 'tick');
      } catch (error) {
        // The store is unreachable for a moment: another replica may take this tick; this one takes the next.
        this.#log({ schedule: schedule.name, error: (error as Error).message }, 'tick not enqueued');
      }
    }
  }
}
