// The seam every HTTP surface plugs into (docs/server.md): the JSON API (src/server/api/), the dashboard
// (src/web/), `/metrics` (src/telemetry/), SCIM and identity-provider webhooks (src/idp/). Each is a
// ServerModule; src/app/server-modules.ts lists them and src/server/keyledger-server.ts registers them on one
// Fastify instance. A module gets the long-lived services through ServerContext and never opens its own.
import type { FastifyInstance } from 'fastify';
import type { KeyledgerApp } from '../app/keyledger-app.js';
import type { Clock } from '../runtime/clock.js';
import type { Logger } from '../telemetry/logger.js';
import type { Principal } from './access.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the server's authentication hook when the request proved who it is; absent otherwise. */
    principal?: Principal;
  }
}

export interface ServerContext {
  /** The one app the server opened at start: registry, operational store, event log, providers, stores. */
  app: KeyledgerApp;
  clock: Clock;
  logger: Logger;
  /** The URL the server is reached at (for redirects, OIDC callbacks, SCIM `meta.location`). */
  publicUrl: string;
}

export interface ServerModule {
  /** Shown in logs and in `/readyz`. */
  readonly name: string;
  register(server: FastifyInstance, context: ServerContext): Promise<void>;
}
