// The server listens for departures (docs/offboarding.md): a ServerModule that subscribes the offboarding
// workflow (src/offboarding/) to the process's directory store (src/directory/directory-store.ts directoryFor),
// which the SCIM server and the Okta event hooks write to, so a deprovision heard over HTTP starts the leaver's
// job in this process, queued off the request path (src/offboarding/offboarding-queue.ts). Once listening it
// resumes the jobs a crash left and takes the departures heard while nothing listened (redeliverDepartures). It
// lives in server/, not offboarding/, so the dependency runs one way: server -> offboarding, as the API's
// offboarding routes (api/offboarding-routes.ts) read the journal.
import { directoryFor } from '../directory/directory-store.js';
import type { IdentitySource } from '../directory/identity-source.js';
import { OffboardingQueue } from '../offboarding/offboarding-queue.js';
import { offboardingWorkflowForApp } from '../offboarding/offboarding-services.js';
import { attachOffboardingRunner } from './offboarding-runner.js';
import type { ServerContext, ServerModule } from './server-module.js';

export const OFFBOARDING_MODULE = 'offboarding';
export const SERVER_OFFBOARDING_ACTOR = 'system:offboarding';

export interface OffboardingModuleOptions {
  /** The identity providers whose sessions a leaver loses (the composition root reads identity-sources.json). */
  identitySources?: (context: ServerContext) => Promise<readonly IdentitySource[]>;
  /** Jobs run side by side (default 4). */
  concurrency?: number;
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
      const queue = new OffboardingQueue({
        workflow,
        logger,
        actor: SERVER_OFFBOARDING_ACTOR,
        ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      });
      options.onQueue?.(queue);
      const directory = directoryFor(app.operational.db, clock);
      const stop = directory.onDeparture(queue.onDeparture);
      // POST /api/v1/offboarding plans with this workflow and queues on this queue (offboarding-runner.ts).
      const detach = attachOffboardingRunner(app.operational.db, { workflow, queue });
      server.addHook('onReady', async () => {
        const resumed = await queue.queueUnfinished();
        const redelivered = await directory.redeliverDepartures();
        if (resumed || redelivered) logger.info({ resumed, redelivered }, 'offboarding picked up where it stopped');
      });
      server.addHook('onClose', async () => {
        stop();
        detach();
        await queue.close();
      });
    },
  };
}
