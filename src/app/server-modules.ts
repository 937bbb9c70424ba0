// The HTTP surfaces the server registers, in order (src/server/keyledger-server.ts): the JSON API and its OpenAPI
// document (src/server/api/). The dashboard (src/web/), `/metrics` (src/telemetry/) and the SCIM and
// identity-provider webhooks (src/idp/) join this list as they land. A composition root: it names modules so that
// the server itself names none.
import { apiModule } from '../server/api/api-module.js';
import type { ServerModule } from '../server/server-module.js';

export const serverModules: readonly ServerModule[] = [apiModule];
