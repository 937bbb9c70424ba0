// The JSON API as a ServerModule: `/api/v1/...` (key-routes.ts, activity-routes.ts, team-routes.ts,
// offboarding-routes.ts) behind bearer-token authentication, and its OpenAPI 3.1 document at `/openapi.json`. Opens the key index at registration (the
// registry read once, on worker threads) and lets the rotations it started give their leases back on close.

import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { AccessDenials } from '../auth/access-denials.js';
import { ApiTokens } from '../auth/api-tokens.js';
import { addBearerAuthentication } from '../auth/bearer-authentication.js';
import { addReadinessCheck } from '../readiness.js';
import type { ServerContext, ServerModule } from '../server-module.js';
import { teamAccessOf } from '../team-access.js';
import { activityRoutes } from './activity-routes.js';
import { type ApiRoute, registerRoutes } from './api-route.js';
import type { ApiServices } from './api-services.js';
import { BackgroundRotations } from './background-rotations.js';
import { KeyIndex } from './key-index.js';
import { keyRoutes } from './key-routes.js';
import { offboardingRoutes } from './offboarding-routes.js';
import { buildOpenApiDocument } from './openapi-document.js';
import { teamRoutes } from './team-routes.js';

export const API_PREFIX = '/api/v1';
export const OPENAPI_PATH = '/openapi.json';
export const API_VERSION = '1.0.0';

export function apiRoutes(services: ApiServices): ApiRoute[] {
  return [...keyRoutes(services), ...activityRoutes(services), ...teamRoutes(services), ...offboardingRoutes(services)];
}

export const apiModule: ServerModule = {
  name: 'api',
  async register(server: FastifyInstance, context: ServerContext): Promise<void> {
    const { app, clock, logger } = context;
    const index = await KeyIndex.open({ root: app.workspace.root, config: app.workspace.config });
    const services: ApiServices = {
      app,
      clock,
      logger,
      index,
      tokens: new ApiTokens(app, clock),
      denials: new AccessDenials(app.events, logger),
      rotations: new BackgroundRotations(app, logger),
      teams: teamAccessOf(app, clock),
    };
    const routes = apiRoutes(services);
    const document = buildOpenApiDocument({
      prefix: API_PREFIX,
      routes,
      version: API_VERSION,
      serverUrl: context.publicUrl,
    });
    server.get(OPENAPI_PATH, async (_request, reply) => reply.type('application/json').send(document));
    await server.register(
      async (api) => {
        addBearerAuthentication(api, services.tokens, services.denials);
        registerRoutes(api, routes, services.denials);
      },
      { prefix: API_PREFIX },
    );
    addReadinessCheck(server, 'api', async () => {
      await sql`select 1`.execute(app.operational.db);
      await index.current();
    });
    server.addHook('onClose', async () => {
      await services.rotations.close();
    });
  },
};
