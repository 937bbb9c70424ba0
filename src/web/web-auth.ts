// Signing in and out of the dashboard: OIDC authorization code with PKCE (oidc-login.ts) and the local admin
// bootstrap (local-admin.ts); a session cookie (HttpOnly, SameSite=Lax, Secure behind https) backed by the
// session store; the CSRF token every form POST carries. Every login, success or failure, and every logout is
// an event; requests without a session are sent to the login page.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../server/access.js';
import { html } from './html.js';
import { page } from './layout.js';
import { readLocalAdmin, verifyPassword } from './local-admin.js';
import { randomToken } from './session-store.js';
import { actorOf, attachSession, sessionOf, type WebContext } from './web-context.js';

export const SESSION_COOKIE = 'kl_session';
const LOGIN_CSRF_COOKIE = 'kl_login_csrf';
/** Paths open without a session. */
const PUBLIC_PREFIXES = ['/login', '/auth/', '/static/'];

type Body = Record<string, string | undefined>;

function formField(request: FastifyRequest, name: string): string | undefined {
  const value = (request.body as Body | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}

function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A path inside this site to come back to after login; anything else becomes `/`. */
export function safeReturnTo(value: unknown): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') && !value.includes('\\')
    ? value
    : '/';
}

function isPublic(url: string): boolean {
  return PUBLIC_PREFIXES.some((prefix) => url === prefix || url.startsWith(prefix) || url.startsWith(`${prefix}?`));
}

export function registerWebAuth(instance: FastifyInstance, context: WebContext): void {
  const cookieOptions = {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: context.secureCookies,
  };

  const startSession = async (reply: FastifyReply, principal: Principal, method: string, returnTo: string) => {
    const { token, session } = await context.sessions.create(principal);
    await context.server.app.events.append({
      type: 'login',
      actor: actorOf(principal),
      data: {
        surface: 'dashboard',
        method,
        outcome: 'success',
        roles: [...principal.roles],
        teams: [...principal.teams],
      },
    });
    return reply
      .setCookie(SESSION_COOKIE, token, { ...cookieOptions, expires: new Date(session.expiresAt) })
      .clearCookie(LOGIN_CSRF_COOKIE, { path: '/' })
      .redirect(safeReturnTo(returnTo), 303);
  };

  const loginFailed = async (
    request: FastifyRequest,
    reply: FastifyReply,
    method: string,
    reason: string,
    who?: string,
  ) => {
    await context.server.app.events.append({
      type: 'login',
      actor: who ?? 'anonymous',
      data: { surface: 'dashboard', method, outcome: 'failure', reason, ip: request.ip },
    });
    return loginPage(request, reply, `Sign-in failed: ${reason}.`, 401);
  };

  const loginPage = async (request: FastifyRequest, reply: FastifyReply, error?: string, status = 200) => {
    const returnTo = safeReturnTo((request.query as Body | undefined)?.returnTo ?? formField(request, 'returnTo'));
    const csrf = randomToken();
    const localAdmin = await readLocalAdmin(context.server.app.dataDir);
    const body = html`
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      ${
        context.oidc
          ? html`<p><a class="button" href="/auth/oidc?returnTo=${encodeURIComponent(returnTo)}" id="sso">Sign in with single sign-on</a></p>`
          : ''
      }
      ${
        localAdmin
          ? html`<h2>Local administrator</h2>
      <form method="post" action="/login" class="stack">
        <input type="hidden" name="_csrf" value="${csrf}">
        <input type="hidden" name="returnTo" value="${returnTo}">
        <label>Email <input type="email" name="email" autocomplete="username" required></label>
        <label>Password <input type="password" name="password" autocomplete="current-password" required></label>
        <div><button type="submit">Sign in</button></div>
      </form>`
          : ''
      }
      ${!context.oidc && !localAdmin ? html`<p class="error">No sign-in method is configured (docs/dashboard.md).</p>` : ''}`;
    return reply
      .code(status)
      .setCookie(LOGIN_CSRF_COOKIE, csrf, { ...cookieOptions, maxAge: 600 })
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(page({ title: 'Sign in', body }));
  };

  instance.get('/login', (request, reply) => loginPage(request, reply));

  instance.post('/login', async (request, reply) => {
    if (!sameToken(formField(request, '_csrf'), request.cookies[LOGIN_CSRF_COOKIE]))
      return loginFailed(request, reply, 'local', 'the form expired, try again');
    const email = (formField(request, 'email') ?? '').trim().toLowerCase();
    const password = formField(request, 'password') ?? '';
    const admin = await readLocalAdmin(context.server.app.dataDir);
    const ok =
      admin !== undefined &&
      (await verifyPassword(password, admin.passwordHash)) &&
      admin.email.toLowerCase() === email;
    if (!ok) return loginFailed(request, reply, 'local', 'wrong email or password', email || undefined);
    return startSession(
      reply,
      { kind: 'local-admin', subject: 'local-admin', email, roles: ['admin'], teams: [], scopes: ['*'] },
      'local',
      formField(request, 'returnTo') ?? '/',
    );
  });

  instance.get('/auth/oidc', async (request, reply) => {
    if (!context.oidc) return loginPage(request, reply, 'single sign-on is not configured', 404);
    const started = await context.oidc.start();
    await context.sessions.putLogin({
      state: started.state,
      nonce: started.nonce,
      codeVerifier: started.codeVerifier,
      returnTo: safeReturnTo((request.query as Body | undefined)?.returnTo),
    });
    return reply.redirect(started.url, 303);
  });

  instance.get('/auth/callback', async (request, reply) => {
    if (!context.oidc) return loginPage(request, reply, 'single sign-on is not configured', 404);
    const query = request.query as Body;
    if (query.error) return loginFailed(request, reply, 'oidc', `the identity provider said ${query.error}`);
    const pending = query.state ? await context.sessions.takeLogin(query.state) : undefined;
    if (!pending) return loginFailed(request, reply, 'oidc', 'the login expired or was already used');
    let principal: Principal;
    try {
      principal = await context.oidc.finish(new URL(request.url, context.server.publicUrl), pending);
    } catch (error) {
      context.server.logger.warn({ err: { message: (error as Error).message } }, 'oidc callback refused');
      return loginFailed(request, reply, 'oidc', 'the identity provider’s answer did not check out');
    }
    return startSession(reply, principal, 'oidc', pending.returnTo);
  });

  instance.post('/logout', async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE];
    if (token) await context.sessions.destroy(token);
    if (request.principal)
      await context.server.app.events.append({
        type: 'logout',
        actor: actorOf(request.principal),
        data: { surface: 'dashboard' },
      });
    return reply.clearCookie(SESSION_COOKIE, { path: '/' }).redirect('/login', 303);
  });

  // Who is asking: the session cookie, for every page but the public ones.
  instance.addHook('preHandler', async (request, reply) => {
    if (isPublic(request.url)) return;
    const token = request.cookies[SESSION_COOKIE];
    const session = token ? await context.sessions.find(token) : undefined;
    if (!session) {
      if (request.method === 'GET' || request.method === 'HEAD')
        return reply.redirect(`/login?returnTo=${encodeURIComponent(safeReturnTo(request.url))}`, 303);
      return reply.code(401).type('text/plain; charset=utf-8').send('sign in first');
    }
    // The login's claims as stored with the session, united with what the team records give this person now:
    // an admin's change is effective at the next request (src/server/team-access.ts).
    request.principal = await context.teams.resolve(session.principal);
    attachSession(request, session);
    if (request.method === 'POST' && !sameToken(formField(request, '_csrf'), session.csrfToken)) {
      await context.server.app.events.append({
        type: 'access_denied',
        actor: actorOf(session.principal),
        data: { surface: 'dashboard', action: 'csrf-check', method: request.method, path: request.url },
      });
      return reply.code(403).type('text/plain; charset=utf-8').send('the form expired: reload the page and try again');
    }
  });
}

export { sessionOf };
