// The HTTP surfaces the server registers, in order (src/server/keyledger-server.ts): the JSON API and its OpenAPI
// document (src/server/api/), the dashboard (src/web/), `/metrics` (src/telemetry/), the SCIM 2.0 service provider
// (src/idp/scim/), the Okta event hooks (src/idp/okta-event-hook/), the offboarding workflow listening to what
// those two hear (src/server/offboarding-module.ts) and, after it, the HR file fed into the same directory when
// identity-sources.json names one (src/idp/hr-file/hr-file-feed-module.ts). A composition root: it names modules so
// that the server itself names none.
import type { Registry } from 'prom-client';
import type { HrFileFeed } from '../idp/hr-file/hr-file-feed.js';
import { createHrFileFeedModule } from '../idp/hr-file/hr-file-feed-module.js';
import { readHrFileFeedOptions, readIdentitySourcesFile } from '../idp/identity-sources-file.js';
import { createOktaEventHookModule } from '../idp/okta-event-hook/okta-event-hook-module.js';
import { createScimModule } from '../idp/scim/scim-module.js';
import { newReplicaId } from '../jobs/replica-heartbeats.js';
import { apiModule } from '../server/api/api-module.js';
import { createOffboardingModule, type OffboardingModuleOptions } from '../server/offboarding-module.js';
import type { ServerModule } from '../server/server-module.js';
import type { ControllerHeartbeat } from '../telemetry/controller-heartbeat.js';
import { createMetricsModule } from '../telemetry/metrics-server-module.js';
import { createWebModule } from '../web/web-module.js';
import { type ReplicaOptions, type RunningReplica, startReplica } from './replica-worker.js';

export interface ServerModuleOptions {
  /** The controller's liveness, when this process runs the controller (`keyledger start`). */
  heartbeat?: ControllerHeartbeat;
  /**
   * In-process metric registries to merge into `/metrics` (the controller's RotationMetrics). Read at every
   * rebuild, so a registry created after the server started can be pushed here.
   */
  registries?: readonly Registry[];
  /** Options of the offboarding module (its concurrency; tests and benches hear its queue). */
  offboarding?: Omit<OffboardingModuleOptions, 'identitySources'>;
  /** Hears the HR file feed once built, when identity-sources.json names an `hr-file` (tests wait on its `idle()`). */
  onHrFileFeed?: (feed: HrFileFeed) => void;
  /**
   * This process is a replica of a fleet (`keyledger server`, docs/scale-out.md): its heartbeat row and, unless
   * `worker: false`, the job worker and the once-per-tick schedules. `onReplica` hears it once started.
   */
  replica?: ReplicaOptions & { onReplica?: (replica: RunningReplica) => void };
  /** The environment and working directory `identity-sources.json` is found from (default: this process's). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Every module, fresh (each holds its own state: the metrics cache, the event-hook queue). */
export function createServerModules(options: ServerModuleOptions = {}): ServerModule[] {
  const location = (dataDir: string) => ({
    env: options.env ?? process.env,
    cwd: options.cwd ?? process.cwd(),
    dataDir,
  });
  // The replica's registries join the ones given: the metrics module reads this array at every rebuild.
  const registries: Registry[] = [...(options.registries ?? [])];
  // One id per replica: the heartbeat row's, and the lease owner of every job this process's workers hold.
  const replica = options.replica ? { replicaId: newReplicaId(), ...options.replica } : undefined;
  return [
    apiModule,
    createWebModule(),
    createMetricsModule({
      ...(options.heartbeat ? { heartbeat: options.heartbeat } : {}),
      registries,
    }),
    createScimModule(),
    createOktaEventHookModule(),
    createOffboardingModule({
      ...(replica
        ? {
            worker: replica.worker !== false,
            replicaId: replica.replicaId,
            ...(replica.leaseMs ? { leaseMs: replica.leaseMs } : {}),
            ...(replica.pollMs ? { pollMs: replica.pollMs } : {}),
          }
        : {}),
      ...options.offboarding,
      identitySources: ({ app }) => readIdentitySourcesFile(location(app.dataDir)),
    }),
    // After the offboarding module: its listener is in place when the file's departures arrive.
    createHrFileFeedModule({
      options: ({ app }) => readHrFileFeedOptions(location(app.dataDir)),
      ...(options.onHrFileFeed ? { onFeed: options.onHrFileFeed } : {}),
    }),
    ...(replica ? [createReplicaModule(replica, registries, options.heartbeat)] : []),
  ];
}

/** Starts the replica once the server is ready (its URL known), stops it before the app closes. */
function createReplicaModule(
  options: NonNullable<ServerModuleOptions['replica']>,
  registries: Registry[],
  heartbeat: ControllerHeartbeat | undefined,
): ServerModule {
  return {
    name: 'replica',
    async register(server, context) {
      let running: RunningReplica | undefined;
      server.addHook('onReady', async () => {
        running = await startReplica(context.app, {
          ...options,
          clock: context.clock,
          logger: context.logger,
          url: context.publicUrl,
          ...(heartbeat ? { heartbeat } : {}),
        });
        registries.push(...running.registries);
        options.onReplica?.(running);
      });
      server.addHook('onClose', async () => {
        await running?.stop();
      });
    },
  };
}

export const serverModules: readonly ServerModule[] = createServerModules();
