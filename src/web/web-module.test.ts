// The dashboard over HTTP (Fastify inject) on a real registry (git) and both operational store engines: the local
// admin login (scrypt, CSRF, cookie flags, failure and success events, logout), the CSRF check on every POST, and
// self-service key requests: a narrow request issued at once through the issuer, a broad one waiting for the
// security role (who sees the justification, and cannot be the requester), policy refusals that keep nothing,
// and requests for a team the person is not in refused as events.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { afterEach, expect, it } from 'vitest';
import { type KeyledgerApp, openKeyledgerApp } from '../app/keyledger-app.js';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { GIT_TEST_ENV, makeRegistry } from '../registry/test-support/registry-fixtures.js';
import { systemClock } from '../runtime/clock.js';
import type { Principal } from '../server/access.js';
import { silentLogger } from '../telemetry/logger.js';
import { FALSE_POSITIVE_FILE_NAME } from './finding-triage.js';
import { hashPassword, LOCAL_ADMIN_FILE_NAME } from './local-admin.js';
import { SessionStore } from './session-store.js';
import { SESSION_COOKIE } from './web-auth.js';
import { parseOidcSettings } from './web-config.js';
import { createWebModule } from './web-module.js';
import { webDb } from './web-schema.js';

const ADMIN_PASSWORD = 'correct horse battery staple';

function cookie(response: LightMyRequestResponse, name: string): string | undefined {
  return response.cookies.find((c) => c.name === name)?.value;
}

function form(fields: Record<string, string>): { payload: string; headers: Record<string, string> } {
  return {
    payload: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
}

/** The notice a redirect after an action carries. */
function noticeOf(location: string): string {
  return new URL(location, 'http://dashboard').searchParams.get('notice') ?? '';
}

function csrfOf(body: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(body);
  if (!match?.[1]) throw new Error('no CSRF field on the page');
  return match[1];
}

forEachBackend((backend) => {
  let app: KeyledgerApp | undefined;
  let server: FastifyInstance | undefined;

  afterEach(async () => {
    await server?.close();
    await app?.close();
    server = undefined;
    app = undefined;
  });

  async function setUp() {
    const database = await backend.createDatabase();
    const registry = await makeRegistry({ '.gitignore': '.keyledger/\n', 'keyledger.config.yaml': '' }, { git: true });
    const env: NodeJS.ProcessEnv = {
      ...GIT_TEST_ENV,
      KEYLEDGER_DATABASE_URL: database.options.databaseUrl ?? '',
    };
    app = await openKeyledgerApp({ registryDir: registry, env, cwd: registry, clock: systemClock });
    await writeFile(
      join(app.dataDir, LOCAL_ADMIN_FILE_NAME),
      JSON.stringify({ email: 'admin@example.com', passwordHash: await hashPassword(ADMIN_PASSWORD) }),
    );
    server = Fastify();
    // An issuer nobody answers at: enough for the callback's own checks, which come before any call to it.
    await createWebModule({
      oidc: parseOidcSettings({ issuer: 'http://127.0.0.1:9/', clientId: 'kl', allowInsecureIssuer: true }, 'test'),
    }).register(server, {
      app,
      clock: systemClock,
      logger: silentLogger,
      publicUrl: 'http://127.0.0.1:1',
    });
    await server.ready();
    const sessions = new SessionStore(webDb(app.operational.db), systemClock);
    /** A signed-in browser: its session cookie and the CSRF token its pages carry. */
    const as = async (principal: Principal) => {
      const { token, session } = await sessions.create(principal);
      const headers = { cookie: `${SESSION_COOKIE}=${token}` };
      const get = (url: string) => server!.inject({ method: 'GET', url, headers });
      const post = (url: string, fields: Record<string, string>) => {
        const body = form({ _csrf: session.csrfToken, ...fields });
        return server!.inject({ method: 'POST', url, payload: body.payload, headers: { ...body.headers, ...headers } });
      };
      return { get, post };
    };
    return { app, server, as };
  }

  const member = (email: string, team: string): Principal => ({
    kind: 'session',
    subject: email,
    email,
    roles: ['member'],
    teams: [team],
    scopes: ['*'],
  });
  const security: Principal = {
    kind: 'session',
    subject: 'sec@example.com',
    email: 'sec@example.com',
    roles: ['security'],
    teams: [],
    scopes: ['*'],
  };

  it('signs the local admin in and out: scrypt, CSRF, cookie flags, an event for each attempt', async () => {
    const { app, server } = await setUp();
    const anonymous = await server.inject({ method: 'GET', url: '/rotations' });
    expect(anonymous.statusCode).toBe(303);
    expect(anonymous.headers.location).toBe('/login?returnTo=%2Frotations');

    const loginPage = await server.inject({ method: 'GET', url: '/login?returnTo=/rotations' });
    const loginCsrf = cookie(loginPage, 'kl_login_csrf')!;
    expect(csrfOf(loginPage.body)).toBe(loginCsrf);

    const wrong = await server.inject({
      method: 'POST',
      url: '/login',
      ...form({ _csrf: loginCsrf, email: 'admin@example.com', password: 'guess', returnTo: '/rotations' }),
      cookies: { kl_login_csrf: loginCsrf },
    });
    expect(wrong.statusCode).toBe(401);
    expect(cookie(wrong, SESSION_COOKIE)).toBeUndefined();
    expect(wrong.body).not.toContain('guess');

    const noCsrf = await server.inject({
      method: 'POST',
      url: '/login',
      ...form({ email: 'admin@example.com', password: ADMIN_PASSWORD }),
    });
    expect(noCsrf.statusCode).toBe(401);

    const right = await server.inject({
      method: 'POST',
      url: '/login',
      ...form({ _csrf: loginCsrf, email: 'Admin@Example.com', password: ADMIN_PASSWORD, returnTo: '/rotations' }),
      cookies: { kl_login_csrf: loginCsrf },
    });
    expect(right.statusCode).toBe(303);
    expect(right.headers.location).toBe('/rotations');
    const setCookie = String(right.headers['set-cookie']);
    expect(setCookie).toMatch(/kl_session=[^;]+;.*HttpOnly/);
    expect(setCookie).toContain('SameSite=Lax');
    expect(setCookie).not.toContain('Secure');
    const token = cookie(right, SESSION_COOKIE)!;

    const rotations = await server.inject({ method: 'GET', url: '/rotations', cookies: { [SESSION_COOKIE]: token } });
    expect(rotations.statusCode).toBe(200);
    expect(rotations.body).toContain('admin@example.com (admin)');
    const csrf = csrfOf(rotations.body);

    // A POST without the session's CSRF token is refused, and that is an event.
    const forged = await server.inject({
      method: 'POST',
      url: '/logout',
      ...form({ _csrf: 'forged' }),
      cookies: { [SESSION_COOKIE]: token },
    });
    expect(forged.statusCode).toBe(403);

    const logout = await server.inject({
      method: 'POST',
      url: '/logout',
      ...form({ _csrf: csrf }),
      cookies: { [SESSION_COOKIE]: token },
    });
    expect(logout.statusCode).toBe(303);
    const after = await server.inject({ method: 'GET', url: '/', cookies: { [SESSION_COOKIE]: token } });
    expect(after.statusCode).toBe(303);

    const logins = await app.events.list({ type: 'login' });
    expect(logins.map((event) => event.data.outcome)).toEqual(['failure', 'failure', 'success']);
    expect(logins[0]).toMatchObject({
      actor: 'admin@example.com',
      data: { method: 'local', reason: 'wrong email or password' },
    });
    expect(JSON.stringify(logins)).not.toContain(ADMIN_PASSWORD);
    expect((await app.events.list({ type: 'access_denied' }))[0]?.data).toMatchObject({ action: 'csrf-check' });
    expect(await app.events.list({ type: 'logout' })).toHaveLength(1);
  });

  it('issues a narrow request at once; a broad one waits for security, who approves it (not their own)', async () => {
    const { app, as } = await setUp();
    const alice = await as(member('alice@example.com', 'payments'));

    const narrow = await alice.post('/requests', {
      team: 'payments',
      provider: 'internal',
      purpose: 'billing reports',
      permissions: 'reports:read',
    });
    expect(narrow.statusCode).toBe(303);
    expect(noticeOf(narrow.headers.location as string)).toMatch(/Key payments-internal-.+ issued/);
    const issuedEvents = await app.events.list({ type: 'issued' });
    expect(issuedEvents).toHaveLength(1);
    const narrowKey = issuedEvents[0]!.keyId!;
    expect((await app.writer.read(narrowKey))?.entry).toMatchObject({
      owner_team: 'payments',
      owner_individual: 'alice@example.com',
    });

    // Broad without a justification: the policy refuses, as `issue` would; nothing is kept.
    const refused = await alice.post('/requests', {
      team: 'payments',
      provider: 'internal',
      purpose: 'ops',
      permissions: 'admin',
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain('forbidden-permissions');

    // A team alice is not in: refused, and recorded.
    const otherTeam = await alice.post('/requests', {
      team: 'search',
      provider: 'internal',
      purpose: 'x',
      permissions: 'a:read',
    });
    expect(otherTeam.statusCode).toBe(403);

    const broad = await alice.post('/requests', {
      team: 'payments',
      provider: 'internal',
      purpose: 'ops console',
      permissions: 'admin',
      justification: 'the on-call console needs to suspend accounts',
    });
    expect(noticeOf(broad.headers.location as string)).toContain('the security role approves it first');
    expect(await app.events.list({ type: 'issued' })).toHaveLength(1);

    // Alice cannot approve it; security sees the justification and approves; the key is issued.
    const mine = await alice.get('/requests');
    expect(mine.body).not.toContain('Approve and issue');
    const requestId = /\/requests\/([0-9a-f-]{36})\/approve/.exec(
      (await (await as(security)).get('/requests')).body,
    )?.[1];
    expect(requestId).toBeDefined();
    expect((await alice.post(`/requests/${requestId}/approve`, {})).statusCode).toBe(403);
    const sec = await as(security);
    const pendingPage = await sec.get('/requests');
    expect(pendingPage.body).toContain('the on-call console needs to suspend accounts');
    const approved = await sec.post(`/requests/${requestId}/approve`, {});
    expect(noticeOf(approved.headers.location as string)).toMatch(/Approved: key payments-internal-.+ issued/);
    const issued = await app.events.list({ type: 'issued' });
    expect(issued).toHaveLength(2);
    expect((await app.writer.read(issued[1]!.keyId!))?.entry.justification).toBe(
      'the on-call console needs to suspend accounts',
    );
    // Decided once: a second approval finds nothing waiting.
    const again = await sec.post(`/requests/${requestId}/approve`, {});
    expect(noticeOf(again.headers.location as string)).toContain('no longer waiting');

    const denials = await app.events.list({ type: 'access_denied' });
    expect(denials.map((event) => event.data.action)).toEqual(['request-key-for-team', 'request-approve']);
    expect((await app.events.list({ type: 'key_request.approved' }))[0]).toMatchObject({ actor: 'sec@example.com' });

    // Alice sees her keys, not another team's; security sees every key.
    const inventory = await alice.get('/');
    expect(inventory.body).toContain(narrowKey);
    const bobInventory = await (await as(member('bob@example.com', 'search'))).get('/');
    expect(bobInventory.body).not.toContain(narrowKey);
    expect((await (await as(member('bob@example.com', 'search'))).get(`/keys/${narrowKey}`)).statusCode).toBe(403);
    // A member of a team none of whose keys a leaver held sees the page, and no leaver (leavers-data.test.ts covers the rest).
    const bobLeavers = await (await as(member('bob@example.com', 'search'))).get('/leavers');
    expect(bobLeavers.statusCode).toBe(200);
    expect(bobLeavers.body).toContain('0 people have left');

    // An admin (who holds the security role too) cannot approve their own broad request.
    const admin = await as({ ...security, subject: 'root@example.com', email: 'root@example.com', roles: ['admin'] });
    await admin.post('/requests', {
      team: 'payments',
      provider: 'internal',
      purpose: 'break glass',
      permissions: '*',
      justification: 'incident response',
    });
    const own = /\/requests\/([0-9a-f-]{36})\/approve/.exec((await sec.get('/requests')).body)?.[1];
    expect((await admin.get('/requests')).body).toContain('another member of the security role approves it');
    expect((await admin.post(`/requests/${own}/approve`, {})).statusCode).toBe(403);
    expect((await app.events.list({ type: 'access_denied' })).at(-1)?.data.action).toBe('approve-own-request');
  });

  it('marks a finding a false positive into the ignore list by fingerprint, for the key team or security only', async () => {
    const { app, as } = await setUp();
    const alice = await as(member('alice@example.com', 'payments'));
    await alice.post('/requests', {
      team: 'payments',
      provider: 'internal',
      purpose: 'webhooks',
      permissions: 'hooks:write',
    });
    const keyId = (await app.events.list({ type: 'issued' }))[0]!.keyId!;
    // What `scan --remediate` records for a leak (src/scan/remediation/finding-remediation.ts).
    const finding = await app.events.append({
      type: 'finding',
      actor: 'scan:remediate',
      keyId,
      data: {
        rule: 'keyledger-internal-key',
        file: 'fixtures/sample.env',
        line: 3,
        fingerprint: 'fixtures/sample.env:keyledger-internal-key:3',
      },
    });
    const bob = await as(member('bob@example.com', 'search'));
    expect((await bob.get('/findings')).body).not.toContain(keyId);
    const refused = await bob.post(`/findings/${finding.id}/false-positive`, { seq: String(finding.seq) });
    expect(refused.statusCode).toBe(403);
    const page = await alice.get('/findings');
    expect(page.body).toContain('fixtures/sample.env:3');
    const marked = await alice.post(`/findings/${finding.id}/false-positive`, { seq: String(finding.seq) });
    expect(noticeOf(marked.headers.location as string)).toContain('false positive');
    const ignored = await readFile(join(app.dataDir, FALSE_POSITIVE_FILE_NAME), 'utf8');
    expect(ignored.split('\n')).toContain('fixtures/sample.env:keyledger-internal-key:3');
    expect((await alice.get('/findings')).body).toMatch(/class="triage">false-positive/);
    // A wrong seq for the id finds nothing.
    expect(
      (await alice.post(`/findings/${finding.id}/assign`, { seq: '1', assignee: 'x@example.com' })).statusCode,
    ).toBe(404);
    expect((await app.events.list({ type: 'finding.false_positive' }))[0]).toMatchObject({
      actor: 'alice@example.com',
      keyId,
    });
  });

  it('refuses an OIDC callback whose state it did not issue, or one already used, as failed logins', async () => {
    const { app, server, as } = await setUp();
    const forged = await server.inject({ method: 'GET', url: '/auth/callback?code=abc&state=never-issued' });
    expect(forged.statusCode).toBe(401);
    expect(cookie(forged, SESSION_COOKIE)).toBeUndefined();
    const sessions = new SessionStore(webDb(app.operational.db), systemClock);
    await sessions.putLogin({ state: 'used-once', nonce: 'n', codeVerifier: 'v', returnTo: '/' });
    await sessions.takeLogin('used-once');
    const replayed = await server.inject({ method: 'GET', url: '/auth/callback?code=abc&state=used-once' });
    expect(replayed.statusCode).toBe(401);
    const refusedByProvider = await server.inject({ method: 'GET', url: '/auth/callback?error=access_denied' });
    expect(refusedByProvider.statusCode).toBe(401);
    const failures = await app.events.list({ type: 'login' });
    expect(failures.map((event) => [event.data.method, event.data.outcome, event.data.reason])).toEqual([
      ['oidc', 'failure', 'the login expired or was already used'],
      ['oidc', 'failure', 'the login expired or was already used'],
      ['oidc', 'failure', 'the identity provider said access_denied'],
    ]);
    // The login page offers single sign-on when OIDC is configured.
    expect((await server.inject({ method: 'GET', url: '/login' })).body).toContain('href="/auth/oidc?returnTo=%2F"');
    expect((await (await as(security)).get('/audit')).statusCode).toBe(200);
  });
});
