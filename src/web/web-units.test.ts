// The dashboard's small parts: the local admin's scrypt check, the claim-to-principal mapping (configurable claim
// names and role map), the OIDC settings from the environment, escaping, the return-to guard, and the session
// store on both engines (hashed tokens, expiry, a login state taken once).
import { describe, expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { fixedClock } from '../runtime/clock.js';
import { html, raw } from './html.js';
import { hashPassword, verifyPassword } from './local-admin.js';
import { principalFromClaims } from './oidc-login.js';
import { SessionStore } from './session-store.js';
import { safeReturnTo } from './web-auth.js';
import { oidcSettingsFromEnv, parseOidcSettings } from './web-config.js';
import { webDb } from './web-schema.js';

describe('local admin password', () => {
  it('verifies the scrypt$N$r$p$salt$hash form and nothing else', async () => {
    const stored = await hashPassword('s3cret-passphrase', { N: 1024, r: 8, p: 1 });
    expect(stored).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword('s3cret-passphrase', stored)).toBe(true);
    expect(await verifyPassword('s3cret-passphrasE', stored)).toBe(false);
    expect(await verifyPassword('s3cret-passphrase', stored.replace('scrypt$', 'bcrypt$'))).toBe(false);
    expect(await verifyPassword('x', 'scrypt$notanumber$8$1$AAAA$AAAA')).toBe(false);
  });
});

describe('claims to principal', () => {
  const settings = parseOidcSettings(
    {
      issuer: 'https://idp.example.com',
      clientId: 'keyledger',
      rolesClaim: 'groups',
      teamsClaim: 'departments',
      roleMap: { 'kl-security': 'security' },
    },
    'test',
  );

  it('maps the configured claims: roles through the role map, teams, the email as subject', () => {
    const principal = principalFromClaims(
      {
        sub: 'u1',
        email: 'Ann@Example.com',
        groups: ['kl-security', 'admin', 'other'],
        departments: 'payments search',
      },
      settings,
    );
    expect(principal).toEqual({
      kind: 'session',
      subject: 'Ann@Example.com',
      email: 'ann@example.com',
      roles: ['security', 'admin'],
      teams: ['payments', 'search'],
      scopes: ['*'],
    });
  });

  it('gives a person without a role claim the member role only', () => {
    expect(principalFromClaims({ sub: 'u2', departments: ['payments'] }, settings)).toMatchObject({
      subject: 'u2',
      roles: ['member'],
      teams: ['payments'],
    });
  });

  it('reads KEYLEDGER_OIDC_* and refuses a bad issuer with a typed error', () => {
    expect(
      oidcSettingsFromEnv({
        KEYLEDGER_OIDC_ISSUER: 'https://idp.example.com',
        KEYLEDGER_OIDC_CLIENT_ID: 'kl',
        KEYLEDGER_OIDC_ROLE_MAP: 'kl-admins=admin, kl-sec=security',
      }),
    ).toMatchObject({
      rolesClaim: 'roles',
      teamsClaim: 'teams',
      roleMap: { 'kl-admins': 'admin', 'kl-sec': 'security' },
    });
    expect(oidcSettingsFromEnv({})).toBeUndefined();
    expect(() => oidcSettingsFromEnv({ KEYLEDGER_OIDC_ISSUER: 'not a url', KEYLEDGER_OIDC_CLIENT_ID: 'kl' })).toThrow(
      expect.objectContaining({ code: 'E_WEB_CONFIG' }),
    );
  });
});

describe('html and redirects', () => {
  it('escapes interpolated values unless they are SafeHtml', () => {
    expect(html`<p title="${'"x"'}">${'<script>'}${raw('<b>ok</b>')}${['<', html`<i>i</i>`]}</p>`.text).toBe(
      '<p title="&quot;x&quot;">&lt;script&gt;<b>ok</b>&lt;<i>i</i></p>',
    );
  });

  it('returns only to paths of this site', () => {
    expect(safeReturnTo('/keys/a?b=1')).toBe('/keys/a?b=1');
    expect(safeReturnTo('//evil.example')).toBe('/');
    expect(safeReturnTo('https://evil.example')).toBe('/');
    expect(safeReturnTo('/\\evil.example')).toBe('/');
    expect(safeReturnTo(undefined)).toBe('/');
  });
});

forEachBackend((backend) => {
  it('keeps sessions by token hash, expires them, and hands a login state out once', async () => {
    const store = await backend.open();
    const clock = fixedClock('2026-12-01T10:00:00Z');
    const sessions = new SessionStore(webDb(store.db), clock, 60_000);
    const principal = {
      kind: 'session' as const,
      subject: 'a@example.com',
      email: 'a@example.com',
      roles: ['member' as const],
      teams: ['payments'],
      scopes: ['*'],
    };
    const { token, session } = await sessions.create(principal);
    const rows = await webDb(store.db).selectFrom('web_sessions').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(await sessions.find(token)).toEqual(session);
    expect(await sessions.find(`${token}x`)).toBeUndefined();
    clock.advance(60_001);
    expect(await sessions.find(token)).toBeUndefined();
    expect(await webDb(store.db).selectFrom('web_sessions').selectAll().execute()).toHaveLength(0);

    await sessions.putLogin({ state: 's1', nonce: 'n1', codeVerifier: 'v1', returnTo: '/findings' });
    expect(await sessions.takeLogin('s1')).toEqual({
      state: 's1',
      nonce: 'n1',
      codeVerifier: 'v1',
      returnTo: '/findings',
    });
    expect(await sessions.takeLogin('s1')).toBeUndefined();
    await sessions.putLogin({ state: 's2', nonce: 'n2', codeVerifier: 'v2', returnTo: '/' });
    clock.advance(11 * 60_000);
    expect(await sessions.takeLogin('s2')).toBeUndefined();
  });
});
