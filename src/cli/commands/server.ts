// `keyledger server`: the HTTP server (src/server/keyledger-server.ts) over the registry — the JSON API and every
// module src/app/server-modules.ts lists — until SIGINT/SIGTERM, which stop it gracefully (no new connections,
// requests in flight finish, the app closes). Settings: a file (--config or KEYLEDGER_SERVER_CONFIG), the
// KEYLEDGER_SERVER_* environment, then --host/--port; all validated before anything opens (docs/server.md).
// Every server is a replica of a fleet (docs/scale-out.md): its heartbeat in the operational store and, unless
// --no-worker, a job worker and the once-per-tick schedules (the due rotations); `--replicas N` starts N of them.
import { UsageError } from '../../errors/keyledger-error.js';
import { parseSchedule } from '../../lifecycle/rotation/rotation-controller.js';
import { loadServerConfig } from '../../server/server-config.js';
import { createLogger } from '../../telemetry/logger.js';
import { printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { addSharedOptions, registryRootFor, type SharedOptions } from '../common-options.js';
import { parseNonNegativeInt, parsePositiveInt } from '../option-parsers.js';

interface ServerOptions extends SharedOptions {
  port?: number;
  host?: string;
  config?: string;
  worker: boolean;
  schedule: string;
  concurrency?: number;
  replicas?: number;
}

export const registerServerCommand: RegisterCommand = (program, context) => {
  addSharedOptions(program.command('server'), { json: 'print where it listens as one JSON line' })
    .description('serve the HTTP API (and the modules the server lists) until SIGINT/SIGTERM')
    .option('--port <port>', 'port to listen on (0: a free one; default 8080 or the config)', parseNonNegativeInt)
    .option('--host <host>', 'address to listen on (default 127.0.0.1 or the config)')
    .option('--config <file>', 'server settings, YAML or JSON (default: $KEYLEDGER_SERVER_CONFIG)')
    .option('--no-worker', 'serve only: run no job worker and no schedules (another replica does)')
    .option(
      '--schedule <cron>',
      'when to look for due keys, once across all replicas: cron, UTC (5 fields, or 6 with seconds)',
      '0 2 * * *',
    )
    .option('--concurrency <n>', 'rotations this replica runs side by side (default 32)', parsePositiveInt)
    .option(
      '--replicas <n>',
      'start N replicas on consecutive ports and supervise them (restart on crash)',
      parsePositiveInt,
    )
    .action(async (options: ServerOptions) => {
      const schedule = parseSchedule(options.schedule);
      const config = await loadServerConfig({
        env: context.env,
        cwd: context.cwd,
        ...(options.config ? { file: options.config } : {}),
        overrides: { port: options.port, host: options.host },
      });
      const registryDir = await registryRootFor(context, options);
      if (options.replicas !== undefined && options.replicas > 1) {
        const { replicaArgs, superviseReplicas } = await import('../replica-supervisor.js');
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        const ports =
          config.port === 0
            ? 'free ports'
            : `ports ${config.port}-${config.port + options.replicas - 1} (http://${config.host}:${config.port} ...)`;
        context.stdout.write(
          `keyledger server: ${options.replicas} replicas on ${ports}, registry ${registryDir}; Ctrl-C stops them all\n`,
        );
        try {
          await superviseReplicas({
            count: options.replicas,
            basePort: config.port,
            args: replicaArgs(process.argv.slice(2)),
            env: context.env,
            cwd: context.cwd,
            stdout: context.stdout,
            stderr: context.stderr,
            signal: stop.signal,
          });
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        if (options.json) printJson(context, { stopped: true });
        return;
      }
      const { createKeyledgerServer } = await import('../../server/keyledger-server.js');
      const { createServerModules } = await import('../../app/server-modules.js');
      const { ControllerHeartbeat } = await import('../../telemetry/controller-heartbeat.js');
      // With a worker, this process runs the rotation controller's work: /metrics reports its heartbeat.
      const heartbeat = options.worker ? new ControllerHeartbeat() : undefined;
      const running = await createKeyledgerServer({
        config,
        // identity-sources.json is found from this command's environment and folder, not the process's.
        modules: createServerModules({
          env: context.env,
          cwd: context.cwd,
          ...(heartbeat ? { heartbeat } : {}),
          replica: {
            worker: options.worker,
            schedule,
            ...(options.concurrency ? { concurrency: options.concurrency } : {}),
            ...replicaTuning(context.env),
            jobs: config.jobs,
            actor: options.actor ?? context.env.KEYLEDGER_ACTOR ?? 'system:rotation-controller',
          },
        }),
        app: { registryDir, env: context.env, cwd: context.cwd },
        clock: context.clock,
        logger: createLogger({ level: config.logLevel, write: (line) => context.stderr.write(line) }),
      });
      await serveUntilSignal(running.close, () => {
        if (options.json) context.stdout.write(`${JSON.stringify({ url: running.url, registry: registryDir })}\n`);
        else context.stdout.write(`keyledger server: ${running.url} (API ${running.url}/api/v1); Ctrl-C to stop\n`);
      });
      if (options.json) printJson(context, { stopped: true });
    });
};

/**
 * Lease, poll and heartbeat periods from KEYLEDGER_JOB_LEASE_MS, KEYLEDGER_JOB_POLL_MS, KEYLEDGER_REPLICA_BEAT_MS and
 * KEYLEDGER_ROTATION_LEASE_MS (docs/scale-out.md): the defaults suit production; tests and benches shorten them.
 */
function replicaTuning(env: NodeJS.ProcessEnv): {
  leaseMs?: number;
  pollMs?: number;
  beatMs?: number;
  rotation?: { leaseMs: number; stepTimeoutMs: number; clockSkewMs: number };
} {
  const read = (name: string) => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed <= 0)
      throw new UsageError(`${name} must be a positive integer (ms), got ${value}`);
    return parsed;
  };
  const leaseMs = read('KEYLEDGER_JOB_LEASE_MS');
  const pollMs = read('KEYLEDGER_JOB_POLL_MS');
  const beatMs = read('KEYLEDGER_REPLICA_BEAT_MS');
  const rotationLeaseMs = read('KEYLEDGER_ROTATION_LEASE_MS');
  return {
    ...(leaseMs ? { leaseMs } : {}),
    ...(pollMs ? { pollMs } : {}),
    ...(beatMs ? { beatMs } : {}),
    // A lease shorter than the defaults' step (2 min) plus clock-skew margin (10 s) brings both down with it, so the
    // rotator's check (src/lifecycle/rotation/key-rotator.ts: lease > step + skew) holds: half the lease for one
    // external effect, a tenth for the clocks.
    ...(rotationLeaseMs
      ? {
          rotation: {
            leaseMs: rotationLeaseMs,
            stepTimeoutMs: Math.min(120_000, Math.floor(rotationLeaseMs / 2)),
            clockSkewMs: Math.min(10_000, Math.floor(rotationLeaseMs / 10)),
          },
        }
      : {}),
  };
}

/** Announces, then waits for SIGINT or SIGTERM and closes; the handlers are removed afterwards. */
export async function serveUntilSignal(close: () => Promise<void>, announce: () => void): Promise<void> {
  let onSignal: () => void = () => {};
  const signalled = new Promise<void>((resolve) => {
    onSignal = () => resolve();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  try {
    announce();
    await signalled;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await close();
  }
}
