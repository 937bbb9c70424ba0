// Cron schedules in UTC, one implementation for every scheduler: the fleet's once-per-tick jobs
// (src/jobs/job-schedule.ts) and the single-process rotation controller (src/lifecycle/rotation/rotation-controller.ts).
// Expressions have 5 fields, or 6 with seconds first.
import { CronExpressionParser } from 'cron-parser';
import { UsageError } from '../errors/keyledger-error.js';

/** The first time the cron expression names strictly after `after`. */
export function nextCronTick(expression: string, after: Date): Date {
  return CronExpressionParser.parse(expression, { currentDate: after, tz: 'UTC' }).next().toDate();
}

/** Returns `expression` when it parses, or throws a usage error that names `label` (a flag or a config field). */
export function checkCronExpression(expression: string, label: string): string {
  try {
    CronExpressionParser.parse(expression, { tz: 'UTC' });
    return expression;
  } catch (error) {
    throw new UsageError(
      `${label} "${expression}" is not a cron expression (minute hour day month weekday, e.g. "0 2 * * *"): ${(error as Error).message}`,
    );
  }
}
