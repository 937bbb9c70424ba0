// The HTTP surfaces the server registers, in order (src/server/keyledger-server.ts): the JSON API and its OpenAPI
// document (src/server/api/), the dashboard (src/web/), `/metrics` (src/telemetry/), the SCIM 2.0 service provider
// (src/idp/scim/) and the Okta event hooks (src/idp/okta-event-hook/). A composition root: it names modules so
// that the server itself names none.
import type { Registry } from 'prom-client';
import { createOktaEventHookModule } from '../idp/okta-event-hook/okta-event-hook-module.js';
import { createScimModule } from '../idp/scim/scim-module.js';
import { apiModule } from '../server/api/api-module.js';
import type { ServerModule } from '../server/server-module.js';
import type { ControllerHeartbeat } from '../telemetry/controller-heartbeat.js';
import { createMetricsModule } from '../telemetry/metrics-server-module.js';
import { createWebModule } from '../web/web-module.js';

export interface ServerModuleOptions {
  /** The controller's liveness, when this process runs the controller (`keyledger start`). */
  heartbeat?: ControllerHeartbeat;
  /**
   * In-process metric registries to merge into `/metrics` (the controller's RotationMetrics). Read at every
   * rebuild, so a registry created after the server started can be pushed here.
   */
  registries?: readonly Registry[];
}

/** Every module, fresh (each holds its own state: the metrics cache, the event-hook queue). */
export function createServerModules(options: ServerModuleOptions = {}): ServerModule[] {
  return [
    apiModule,
    createWebModule(),
    createMetricsModule({
      ...(options.heartbeat ? { heartbeat: options.heartbeat } : {}),
      ...(options.registries ? { registries: options.registries } : {}),
    }),
    createScimModule(),
    createOktaEventHookModule(),
  ];
}

export const serverModules: readonly ServerModule[] = createServerModules();
