// `keyledger controller`: the rotation controller as a daemon. Resumes the journal at start, then on every time
// the cron schedule names (UTC) rotates the due keys and sweeps the tickets. SIGINT/SIGTERM stop it gracefully:
// the step in flight finishes and its lease is given back, so the next start resumes exactly there.
import { parseSchedule } from '../../lifecycle/rotation/rotation-controller.js';
import { nextCronTick } from '../../runtime/cron-schedule.js';
import { printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { addSharedOptions, openAppFor, type SharedOptions } from '../common-options.js';
import { EXIT_VIOLATIONS } from '../exit-codes.js';
import { parsePositiveInt } from '../option-parsers.js';
import { parseDuration } from './rotate.js';

interface ControllerOptions extends SharedOptions {
  schedule: string;
  window?: number;
  concurrency?: number;
  tickets?: string;
  once?: boolean;
  reconcileDepartures?: boolean;
}

export const registerControllerCommand: RegisterCommand = (program, context) => {
  addSharedOptions(program.command('controller'), { json: 'print each run as one JSON line (errors too)' })
    .description('run the rotation schedule as a daemon (cron, UTC); SIGINT/SIGTERM finish the step in flight and stop')
    .option('--schedule <cron>', 'when to look for due keys: a 5-field cron expression, UTC', '0 2 * * *')
    .option('--window <duration>', "spread each run's rotations over this long, e.g. 6h", parseDuration)
    .option('--concurrency <n>', 'rotations in flight per provider when the provider does not say', parsePositiveInt)
    .option('--tickets <sink>', 'markdown:<dir>, github:<owner/repo>, jira:<PROJECT> (default: KEYLEDGER_TICKETS)')
    .option('--once', 'one run now (resume, rotate what is due, sweep tickets), then exit')
    .option(
      '--reconcile-departures',
      'after each run, offboard anyone who left without a signal reaching us (keyledger offboard --reconcile)',
    )
    .action(async (options: ControllerOptions) => {
      const schedule = parseSchedule(options.schedule);
      const app = await openAppFor(context, options);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let reconciling: Promise<void> = Promise.resolve();
      try {
        const services = app.rotation({
          ...(options.tickets ? { tickets: options.tickets } : {}),
          actor: options.actor ?? context.env.KEYLEDGER_ACTOR ?? 'system:rotation-controller',
        });
        const scheduleOptions = {
          signal: stop.signal,
          ...(options.window !== undefined ? { windowMs: options.window } : {}),
          ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
        };
        const print = (run: Awaited<ReturnType<typeof services.controller.runOnce>>) => {
          const summary = {
            at: run.at,
            due: run.due.length,
            resumed: run.resumed.length,
            // Rotations whose rollback cannot finish yet, resumed or met again (`keyledger rotate --status`).
            stuck:
              run.resumed.filter((outcome) => outcome.status === 'stuck').length + (run.report ? run.report.stuck : 0),
            ...(run.report
              ? {
                  done: run.report.done,
                  rolledBack: run.report.rolledBack,
                  failed: run.report.failed,
                  deferred: run.report.deferred,
                  ticketsOpened: run.report.tickets.opened,
                  errors: run.report.errors,
                }
              : {}),
            ...(run.sweep
              ? { ticketsClosed: run.sweep.closed.length, ticketsEscalated: run.sweep.escalated.length }
              : {}),
          };
          if (options.json) context.stdout.write(`${JSON.stringify(summary)}\n`);
          else
            context.stdout.write(
              `${run.at}: ${summary.due} due, ${summary.done ?? 0} rotated, ${summary.rolledBack ?? 0} rolled back, ${summary.failed ?? 0} failed, ${summary.deferred ?? 0} deferred, ${summary.stuck} stuck, ${summary.ticketsOpened ?? 0} ticket(s) opened\n`,
            );
          if (
            summary.stuck > 0 ||
            (run.report && run.report.rolledBack + run.report.failed + run.report.errors.length > 0)
          )
            context.exitCode = EXIT_VIOLATIONS;
        };
        // Offboarding's reconciliation (docs/offboarding.md) after the run, when asked: loaded only then.
        const reconcile = async () => {
          if (!options.reconcileDepartures) return;
          const { reconcileForApp } = await import('./offboard.js');
          const report = await reconcileForApp(context, app, {
            actor: options.actor ?? context.env.KEYLEDGER_ACTOR ?? 'system:rotation-controller',
            ...(options.tickets ? { tickets: options.tickets } : {}),
          });
          const summary = {
            offboarded: report.offboarded.length,
            unfinished: report.offboarded.filter((person) => person.state !== 'done').length,
            unreadable: report.unreadable.map((failure) => failure.source),
          };
          if (summary.unfinished || summary.unreadable.length) context.exitCode = EXIT_VIOLATIONS;
          if (options.json) context.stdout.write(`${JSON.stringify({ reconcile: summary })}\n`);
          else context.stdout.write(`reconcile: ${summary.offboarded} offboarded, ${summary.unfinished} unfinished\n`);
        };
        if (options.once) {
          print(await services.controller.runOnce(scheduleOptions));
          await reconcile();
          return;
        }
        if (!options.json)
          context.stderr.write(
            `keyledger controller: schedule "${schedule}" (UTC), first run at ${nextCronTick(schedule, context.clock()).toISOString()}\n`,
          );
        await services.controller.runForever(schedule, {
          ...scheduleOptions,
          onRun: (run) => {
            print(run);
            // One at a time, and awaited before the app closes (below).
            reconciling = reconciling.then(reconcile).catch((error: unknown) => {
              context.exitCode = EXIT_VIOLATIONS;
              context.stderr.write(`keyledger controller: reconcile failed: ${(error as Error).message}\n`);
            });
          },
        });
        if (options.json) printJson(context, { stopped: true });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await reconciling;
        await app.close();
      }
    });
};
