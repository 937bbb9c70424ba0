// What every dashboard route gets: the server's services, the session store, the registry snapshot, the
// dashboard's tables, and the helpers that record an action or a denial as an event (src/events/).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RotationServices } from '../lifecycle/rotation/rotation-services.js';
import type { Principal } from '../server/access.js';
import type { ServerContext } from '../server/server-module.js';
import type { TeamAccess } from '../server/team-access.js';
import { html, type SafeHtml } from './html.js';
import { page } from './layout.js';
import type { OidcLogin } from './oidc-login.js';
import type { RegistrySnapshot } from './registry-snapshot.js';
import type { Session, SessionStore } from './session-store.js';
import type { WebDb } from './web-schema.js';

export interface WebContext {
  server: ServerContext;
  db: WebDb;
  sessions: SessionStore;
  snapshot: RegistrySnapshot;
  oidc?: OidcLogin | undefined;
  /** The rotation services, built once, acting as the dashboard (events name the person through `actorOf`). */
  rotation(): RotationServices;
  /** Rotations the dashboard started and is driving in this process (awaited at shutdown). */
  running: Set<Promise<unknown>>;
  /** Aborted at server close: waits in a running rotation end, and the journal keeps the row for the controller. */
  shutdown: AbortSignal;
  secureCookies: boolean;
  /** The team records and role grants, shared with the API; adds them to each request's principal (web-auth.ts). */
  teams: TeamAccess;
}

const sessionsByRequest = new WeakMap<FastifyRequest, Session>();

export function attachSession(request: FastifyRequest, session: Session): void {
  sessionsByRequest.set(request, session);
}

export function sessionOf(request: FastifyRequest): Session | undefined {
  return sessionsByRequest.get(request);
}

/** The hidden field every form POST carries (checked by the session hook, web-auth.ts). */
export function csrfField(request: FastifyRequest): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${sessionOf(request)?.csrfToken ?? ''}">`;
}

/** The actor events name: the person's email, else the principal's subject. */
export function actorOf(principal: Principal): string {
  return principal.email ?? `${principal.kind}:${principal.subject}`;
}

/** Renders a page for the signed-in principal (navigation, logout form with the session's CSRF token). */
export function sendPage(
  request: FastifyRequest,
  reply: FastifyReply,
  options: Omit<Parameters<typeof page>[0], 'principal' | 'csrfToken'>,
  status = 200,
): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(page({ ...options, principal: request.principal, csrfToken: sessionOf(request)?.csrfToken }));
}

/** Refuses an action or a page, as a 403 page and an `access_denied` event naming who, what and which key. */
export async function deny(
  context: WebContext,
  request: FastifyRequest,
  reply: FastifyReply,
  action: string,
  keyId?: string,
): Promise<FastifyReply> {
  const principal = request.principal;
  await context.server.app.events.append({
    type: 'access_denied',
    actor: principal ? actorOf(principal) : 'anonymous',
    keyId: keyId ?? null,
    data: { surface: 'dashboard', action, method: request.method, path: request.url.split('?')[0] ?? '' },
  });
  return sendPage(
    request,
    reply,
    {
      title: 'Not allowed',
      body: html`<p class="error">Your role does not allow this (${action}). The attempt was recorded.</p><p><a href="/">Back to the inventory</a></p>`,
    },
    403,
  );
}
