// The rotation controller (docs/rotation.md): on a cron schedule, finds the due keys, rotates them through the
// scheduler (tickets for manual providers), sweeps the tickets, and at start resumes whatever the journal holds
// from a crash. Shutdown lets the step in flight finish, gives the leases back, and returns.
import type { PeopleSource } from '../../directory/people-directory.js';
import type { EventLog } from '../../events/event-log.js';
import type { LoadedEntry } from '../../registry/registry-loader.js';
import { abortableSleep } from '../../runtime/abortable-sleep.js';
import type { Clock } from '../../runtime/clock.js';
import { checkCronExpression, nextCronTick } from '../../runtime/cron-schedule.js';
import type { RotationTicketDesk, TicketSweep } from '../../tickets/rotation-ticket-desk.js';
import type { KeyRotator, RotationOutcome } from './key-rotator.js';
import { type DueKey, findDueKeys, rotationRequests } from './rotation-due.js';
import type { RotationMetrics } from './rotation-metrics.js';
import type { RotationScheduler, ScheduleOptions, ScheduleReport } from './rotation-scheduler.js';

export interface RotationControllerDependencies {
  rotator: KeyRotator;
  scheduler: RotationScheduler;
  loadEntries: () => Promise<LoadedEntry[]>;
  events: EventLog;
  clock: Clock;
  metrics?: RotationMetrics;
  tickets?: RotationTicketDesk;
  /** Read at every due detection, so an owner who left since the process started is owner-left now. */
  people?: PeopleSource;
  expiryWarningDays: number;
  log?: (line: string) => void;
}

export interface ControllerRun {
  at: string;
  due: DueKey[];
  report?: ScheduleReport;
  resumed: RotationOutcome[];
  sweep?: TicketSweep;
}

/** Validates a cron expression (UTC) given as `--schedule` and returns it, or throws a usage error naming it. */
export function parseSchedule(expression: string): string {
  return checkCronExpression(expression, '--schedule');
}

export class RotationController {
  readonly #deps: RotationControllerDependencies;

  constructor(dependencies: RotationControllerDependencies) {
    this.#deps = dependencies;
  }

  /** The keys due now (no side effects but the due gauge). */
  async findDue(): Promise<DueKey[]> {
    const now = this.#deps.clock();
    const entries = await this.#deps.loadEntries();
    const requests = await rotationRequests(this.#deps.events, new Date(now.getTime() - 400 * 86_400_000));
    const people = await this.#deps.people?.();
    const due = findDueKeys(entries, {
      now,
      expiryWarningDays: this.#deps.expiryWarningDays,
      requests,
      ...(people ? { people } : {}),
    });
    if (this.#deps.metrics) {
      this.#deps.metrics.due.reset();
      for (const key of due) this.#deps.metrics.due.inc({ trigger: key.trigger });
    }
    return due;
  }

  /** One pass: resume the journal, rotate what is due, sweep the tickets. */
  async runOnce(options: ScheduleOptions & { dryRun?: boolean } = {}): Promise<ControllerRun> {
    const at = this.#deps.clock().toISOString();
    if (options.dryRun) return { at, due: await this.findDue(), resumed: [] };
    const resumed = await this.#deps.rotator.resumeAll(options.signal ? { signal: options.signal } : {});
    const due = await this.findDue();
    const report = await this.#deps.scheduler.run(due, options);
    const sweep =
      this.#deps.tickets && !options.signal?.aborted
        ? await this.#deps.tickets.sweep(await this.#deps.loadEntries())
        : undefined;
    await this.#deps.rotator.observePending();
    return { at, due, report, resumed, ...(sweep ? { sweep } : {}) };
  }

  /** Runs `runOnce` at every time the cron expression names until `signal` aborts; resumes at start. */
  async runForever(
    schedule: string,
    options: ScheduleOptions & { signal: AbortSignal; onRun?: (run: ControllerRun) => void },
  ): Promise<void> {
    const log = this.#deps.log ?? (() => undefined);
    const resumed = await this.#deps.rotator.resumeAll({ signal: options.signal });
    if (resumed.length)
      log(`resumed ${resumed.length} rotation(s) left by an earlier run: ${resumed.map((o) => o.status).join(', ')}`);
    while (!options.signal.aborted) {
      const next = nextCronTick(schedule, this.#deps.clock());
      log(`next run at ${next.toISOString()}`);
      await abortableSleep(next.getTime() - this.#deps.clock().getTime(), options.signal);
      if (options.signal.aborted) break;
      const run = await this.runOnce(options);
      options.onRun?.(run);
    }
    log('stopped: the step in flight finished and its lease was given back');
  }
}
