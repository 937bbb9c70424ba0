// The server listens for departures (docs/offboarding.md): a ServerModule that subscribes the offboarding
// workflow (src/offboarding/) to the process's directory store (src/directory/directory-store.ts directoryFor),
// which the SCIM server and the Okta event hooks write to, so a deprovision heard over HTTP becomes an
// `offboarding.depart` job in the fleet's durable queue (src/offboarding/offboarding-queue.ts, src/jobs/) that any
// replica's worker runs — this one's too, unless it serves only. Once listening it takes the departures heard while
// nothing listened (redeliverDepartures); a run a dead replica held is taken over by the queue after its lease, so
// no replica resumes offboarding at its start. It lives in server/, not offboarding/, so the dependency runs one
// way: server -> offboarding, as the API's offboarding routes (api/offboarding-routes.ts) read the journal.
import { directoryFor } from '../directory/directory-store.js';
import type { IdentitySource } from '../directory/identity-source.js';
import { JobKindTable } from '../jobs/job-kind.js';
import { JobQueue } from '../jobs/job-queue.js';
import { JobWorker } from '../jobs/job-worker.js';
import { newReplicaId } from '../jobs/replica-heartbeats.js';
import { offboardingDepartJobKind } from '../offboarding/offboarding-depart-job.js';
import { OffboardingQueue } from '../offboarding/offboarding-queue.js';
import { offboardingWorkflowForApp } from '../offboarding/offboarding-services.js';
import { attachOffboardingRunner } from './offboarding-runner.js';
import type { ServerContext, ServerModule } from './server-module.js';

export const OFFBOARDING_MODULE = 'offboarding';
export const SERVER_OFFBOARDING_ACTOR = 'system:offboarding';

export interface OffboardingModuleOptions {
  /** The identity providers whose sessions a leaver loses (the composition root reads identity-sources.json). */
  identitySources?: (context: ServerContext) => Promise<readonly IdentitySource[]>;
  /** Departures this process runs side by side (default 4). */
  concurrency?: number;
  /** Run a worker for `offboarding.depart` jobs (default true); false: only queue them, other replicas run them. */
  worker?: boolean;
  /** The lease owner this process's worker writes: the replica's id, so the fleet's gauges know its jobs' holder. */
  replicaId?: string;
  /** A job's lease (default the worker's 60 s) and the idle worker's poll (default 1 s). */
  leaseMs?: number;
  pollMs?: number;
  /** Hears the queue once built (tests and benches wait on `idle()`). */
  onQueue?: (queue: OffboardingQueue) => void;
}

export function createOffboardingModule(options: OffboardingModuleOptions = {}): ServerModule {
  return {
    name: OFFBOARDING_MODULE,
    async register(server, context) {
      const { app, clock, logger } = context;
      const identitySources = (await options.identitySources?.(context)) ?? [];
      const workflow = offboardingWorkflowForApp(app, { clock, actor: SERVER_OFFBOARDING_ACTOR, identitySources });
      const jobs = new JobQueue(app.operational.db, clock);
      const replicaId = options.replicaId ?? newReplicaId();
      const worker =
        options.worker === false
          ? undefined
          : new JobWorker({
              queue: jobs,
              kinds: new JobKindTable().register(offboardingDepartJobKind(workflow, logger)),
              replicaId,
              clock,
              concurrency: options.concurrency ?? 4,
              ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
              ...(options.pollMs ? { pollMs: options.pollMs } : {}),
              log: (fields, message) => logger.warn({ replica: replicaId, ...fields }, message),
            });
      const queue = new OffboardingQueue({
        workflow,
        jobs,
        clock,
        actor: SERVER_OFFBOARDING_ACTOR,
        ...(worker ? { replicaId, onEnqueued: () => worker.wake() } : {}),
      });
      options.onQueue?.(queue);
      const directory = directoryFor(app.operational.db, clock);
      const stop = directory.onDeparture(queue.onDeparture);
      // POST /api/v1/offboarding plans with this workflow and queues on this queue (offboarding-runner.ts).
      const detach = attachOffboardingRunner(app.operational.db, { workflow, queue });
      server.addHook('onReady', async () => {
        worker?.start();
        const redelivered = await directory.redeliverDepartures();
        if (redelivered) logger.info({ redelivered }, 'offboarding took the departures heard while nothing listened');
      });
      server.addHook('onClose', async () => {
        stop();
        detach();
        // Waits for the runs in flight (each ends recorded in the journal and the queue); a process killed instead
        // leaves its jobs to the next worker once their leases run out.
        await worker?.stop();
      });
    },
  };
}
