// The dashboard as a ServerModule (src/server/server-module.ts): server-rendered pages over the same services as
// the CLI, signed in through OIDC or the local admin bootstrap, RBAC per src/server/access.ts on every page and
// action. Routes live in one encapsulated scope, so its session hook and form parser touch no other module's
// routes. docs/dashboard.md describes the pages and the configuration.
import cookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import type { RotationServices } from '../lifecycle/rotation/rotation-services.js';
import type { ServerContext, ServerModule } from '../server/server-module.js';
import { teamAccessOf } from '../server/team-access.js';
import { OidcLogin } from './oidc-login.js';
import { registerAuditPage } from './pages/audit-page.js';
import { registerFindingsPage } from './pages/findings-page.js';
import { registerInventoryPage } from './pages/inventory-page.js';
import { registerKeyPage } from './pages/key-page.js';
import { registerLeaversPage } from './pages/leavers-page.js';
import { registerRequestsPage } from './pages/requests-page.js';
import { registerRotationsPage } from './pages/rotations-page.js';
import { registerTeamsPage } from './pages/teams-page.js';
import { RegistrySnapshot } from './registry-snapshot.js';
import { DEFAULT_SESSION_TTL_MS, SessionStore } from './session-store.js';
import { DASHBOARD_CSS, DASHBOARD_JS } from './web-assets.js';
import { registerWebAuth } from './web-auth.js';
import { type OidcSettings, oidcSettingsFromEnv } from './web-config.js';
import type { WebContext } from './web-context.js';
import { webDb } from './web-schema.js';

export interface WebModuleOptions {
  /** OIDC settings; default: KEYLEDGER_OIDC_* from the environment (none: local admin only). */
  oidc?: OidcSettings;
  env?: NodeJS.ProcessEnv;
  sessionTtlMs?: number;
}

const FORM_TYPE = 'application/x-www-form-urlencoded';

export function createWebModule(options: WebModuleOptions = {}): ServerModule {
  return {
    name: 'dashboard',
    async register(server: FastifyInstance, serverContext: ServerContext): Promise<void> {
      const oidcSettings = options.oidc ?? oidcSettingsFromEnv(options.env ?? process.env);
      const db = webDb(serverContext.app.operational.db);
      let rotation: RotationServices | undefined;
      const shutdown = new AbortController();
      const context: WebContext = {
        server: serverContext,
        db,
        sessions: new SessionStore(db, serverContext.clock, options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS),
        snapshot: new RegistrySnapshot(serverContext),
        oidc: oidcSettings
          ? new OidcLogin(oidcSettings, new URL('/auth/callback', serverContext.publicUrl).href)
          : undefined,
        rotation: () => {
          rotation ??= serverContext.app.rotation({ actor: 'dashboard' });
          return rotation;
        },
        running: new Set(),
        shutdown: shutdown.signal,
        secureCookies: new URL(serverContext.publicUrl).protocol === 'https:',
        teams: teamAccessOf(serverContext.app, serverContext.clock),
      };

      await server.register(async (instance) => {
        if (!instance.hasDecorator('parseCookie')) await instance.register(cookie);
        if (!instance.hasContentTypeParser(FORM_TYPE)) {
          instance.addContentTypeParser(
            FORM_TYPE,
            { parseAs: 'string', bodyLimit: 64 * 1024 },
            (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
          );
        }
        instance.addHook('onSend', async (_request, reply, payload) => {
          reply.header('x-frame-options', 'DENY');
          reply.header('x-content-type-options', 'nosniff');
          reply.header('referrer-policy', 'same-origin');
          reply.header(
            'content-security-policy',
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
          );
          return payload;
        });
        instance.get('/static/dashboard.css', (_request, reply) =>
          reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(DASHBOARD_CSS),
        );
        instance.get('/static/dashboard.js', (_request, reply) =>
          reply
            .type('text/javascript; charset=utf-8')
            .header('cache-control', 'public, max-age=300')
            .send(DASHBOARD_JS),
        );
        registerWebAuth(instance, context);
        registerInventoryPage(instance, context);
        registerKeyPage(instance, context);
        registerRotationsPage(instance, context);
        registerFindingsPage(instance, context);
        registerRequestsPage(instance, context);
        registerLeaversPage(instance, context);
        registerTeamsPage(instance, context);
        registerAuditPage(instance, context);
      });

      const sweep = setInterval(() => {
        context.sessions.sweep().catch(() => undefined);
      }, 15 * 60_000);
      sweep.unref();
      server.addHook('onClose', async () => {
        clearInterval(sweep);
        // Rotations the dashboard started finish their step; the journal keeps where they stand.
        shutdown.abort();
        await Promise.allSettled([...context.running]);
      });
    },
  };
}
