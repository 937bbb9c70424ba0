// One replica's share of the fleet (docs/scale-out.md): its heartbeat row, and — unless it serves only — the job
// worker and the scheduler of the fleet's once-per-tick work. Opened over the server's app by the replica module
// (src/app/server-modules.ts); the job kinds are registered here, so the queue and the worker name no service.
import type { Registry } from 'prom-client';
import { JobKindTable } from '../jobs/job-kind.js';
import { createJobMetrics } from '../jobs/job-metrics.js';
import { JobQueue } from '../jobs/job-queue.js';
import { JobScheduler } from '../jobs/job-schedule.js';
import { JobWorker } from '../jobs/job-worker.js';
import { newReplicaId, ReplicaHeartbeats } from '../jobs/replica-heartbeats.js';
import type { RotationOptions } from '../lifecycle/rotation/key-rotator.js';
import type { Clock } from '../runtime/clock.js';
import type { ControllerHeartbeat } from '../telemetry/controller-heartbeat.js';
import type { Logger } from '../telemetry/logger.js';
import { backgroundJobKinds, backgroundSchedules } from './background-job-kinds.js';
import type { KeyledgerApp } from './keyledger-app.js';
import { ROTATION_DUE_TICK, rotationJobKinds } from './rotation-job-kinds.js';
import type { ScheduledJobsConfig } from './scheduled-jobs-config.js';

export interface ReplicaOptions {
  /** Run the job worker and the schedules (default true); false: this replica only serves. */
  worker?: boolean;
  /** When the due rotations are looked for: cron, UTC, 5 fields or 6 with seconds (default `0 2 * * *`). */
  schedule?: string;
  /** Per-key jobs (rotations) this replica runs side by side (default 32); scheduled work has a slot of its own. */
  concurrency?: number;
  /** A job's lease (default 60 s): how long a job held by a dead replica waits before another takes it. */
  leaseMs?: number;
  /** How often an idle worker looks for jobs (default 1 s). */
  pollMs?: number;
  /** How often the replica beats (default 5 s; dead after three missed). */
  beatMs?: number;
  actor?: string;
  rotation?: Partial<RotationOptions>;
  /** Scheduled background jobs from the server's config (discovery, audit-log ingest): none unless configured. */
  jobs?: ScheduledJobsConfig;
  /** Background jobs (discovery, ingest, ticket sync) this replica runs side by side (default 2). */
  backgroundConcurrency?: number;
  /** This replica's id (default a new one): the server's modules that run workers of their own share it. */
  replicaId?: string;
}

export interface RunningReplica {
  replicaId: string;
  queue: JobQueue;
  replicas: ReplicaHeartbeats;
  worker?: JobWorker;
  /** The fleet's gauges and, with a worker, the rotation counters: for `/metrics`. */
  registries: Registry[];
  stop(): Promise<void>;
}

export const DEFAULT_REPLICA_SCHEDULE = '0 2 * * *';
/** Rotations a replica runs side by side: enough that many join each registry batch commit while others wait on it. */
export const DEFAULT_REPLICA_CONCURRENCY = 32;

export async function startReplica(
  app: KeyledgerApp,
  options: ReplicaOptions & { clock: Clock; logger: Logger; url?: string; heartbeat?: ControllerHeartbeat },
): Promise<RunningReplica> {
  const { clock, logger } = options;
  const replicaId = options.replicaId ?? newReplicaId();
  const db = app.operational.db;
  const queue = new JobQueue(db, clock);
  const replicas = new ReplicaHeartbeats(db, clock, options.beatMs ? { beatMs: options.beatMs } : {});
  const runsWorker = options.worker !== false;
  await replicas.register({ replicaId, worker: runsWorker, ...(options.url ? { url: options.url } : {}) });
  const registries: Registry[] = [createJobMetrics(queue, replicas)];
  const beat = () => {
    replicas.beat(replicaId).then(
      () => {
        if (runsWorker) options.heartbeat?.beat(clock());
      },
      (error: unknown) => logger.warn({ error: (error as Error).message }, 'replica heartbeat not written'),
    );
  };
  if (runsWorker) options.heartbeat?.beat(clock());
  const beating = setInterval(beat, replicas.beatMs);
  beating.unref();
  const stopSchedules = new AbortController();
  let worker: JobWorker | undefined;
  let scheduledWorker: JobWorker | undefined;
  let backgroundWorker: JobWorker | undefined;
  let scheduling: Promise<void> = Promise.resolve();
  if (runsWorker) {
    const services = app.rotation({
      actor: options.actor ?? 'system:rotation-controller',
      ...(options.rotation ? { rotation: options.rotation } : {}),
    });
    registries.push(services.metrics.registry);
    const [tick, rotate] = rotationJobKinds({ services, writer: app.writer, queue, clock });
    const log = (fields: Record<string, unknown>, message: string) =>
      logger.info({ replica: replicaId, ...fields }, message);
    const workerOptions = {
      queue,
      replicaId,
      clock,
      ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
      ...(options.pollMs ? { pollMs: options.pollMs } : {}),
      log,
    };
    // Two loops: the per-key work fills its slots (each rotation holds one until its registry batch commits), and
    // the fleet's scheduled work keeps a slot of its own, so a tick never waits behind thousands of rotations.
    worker = new JobWorker({
      ...workerOptions,
      kinds: new JobKindTable().register(rotate),
      concurrency: options.concurrency ?? DEFAULT_REPLICA_CONCURRENCY,
    });
    scheduledWorker = new JobWorker({ ...workerOptions, kinds: new JobKindTable().register(tick), concurrency: 1 });
    // Discovery, audit-log ingest and ticket sync: long runs that must not hold the tick's slot or the rotations'.
    const background = backgroundJobKinds({
      app,
      services,
      config: options.jobs,
      clock,
      actor: options.actor ?? 'system:background-jobs',
    });
    registries.push(background.registry);
    const backgroundKinds = new JobKindTable();
    for (const kind of background.kinds) backgroundKinds.register(kind);
    backgroundWorker = new JobWorker({
      ...workerOptions,
      kinds: backgroundKinds,
      concurrency: options.backgroundConcurrency ?? 2,
    });
    worker.start();
    scheduledWorker.start();
    backgroundWorker.start();
    const scheduler = new JobScheduler({
      queue,
      clock,
      replicaId,
      schedules: [
        {
          name: ROTATION_DUE_TICK,
          cron: options.schedule ?? DEFAULT_REPLICA_SCHEDULE,
          job: { kind: ROTATION_DUE_TICK, payload: {}, maxAttempts: 3 },
        },
        ...backgroundSchedules(options.jobs),
      ],
      log,
    });
    scheduling = scheduler.run(stopSchedules.signal);
  }
  logger.info({ replica: replicaId, worker: runsWorker }, 'replica started');
  let stopping: Promise<void> | undefined;
  return {
    replicaId,
    queue,
    replicas,
    ...(worker ? { worker } : {}),
    registries,
    stop: () => {
      stopping ??= (async () => {
        stopSchedules.abort();
        await scheduling;
        await Promise.all([worker?.stop(), scheduledWorker?.stop(), backgroundWorker?.stop()]);
        clearInterval(beating);
        await replicas.stopped(replicaId).catch(() => undefined);
      })();
      return stopping;
    },
  };
}
