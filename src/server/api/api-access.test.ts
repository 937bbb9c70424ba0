// Every endpoint of /api/v1 for every kind of caller, over real HTTP on both database engines: a member of the
// key's team, a member of another team, the security role, an admin, an expired token and no token. Cross-team
// attempts are all refused (403) and each refusal is an event; writes need If-Match (428 without, 412 when stale).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { type ApiHarness, type Caller, startApiHarness } from '../test-support/api-harness.js';

const CALLERS: Caller[] = ['memberOwn', 'memberOther', 'security', 'admin', 'expired', 'none'];

/** Status by caller: the read of a payments key (members of other teams refused, tokens needed). */
const READ_OWN_TEAM: Record<Caller, number> = {
  memberOwn: 200,
  memberOther: 403,
  security: 200,
  admin: 200,
  expired: 401,
  none: 401,
};
/** A write on a payments key: security reads only. */
const WRITE_OWN_TEAM = (success: number): Record<Caller, number> => ({
  memberOwn: success,
  memberOther: 403,
  security: 403,
  admin: success,
  expired: 401,
  none: 401,
});
/** Listings everyone signed in may call (filtered to what they see). */
const LIST_ANY: Record<Caller, number> = {
  memberOwn: 200,
  memberOther: 200,
  security: 200,
  admin: 200,
  expired: 401,
  none: 401,
};
const SECURITY_ONLY: Record<Caller, number> = {
  memberOwn: 403,
  memberOther: 403,
  security: 200,
  admin: 200,
  expired: 401,
  none: 401,
};
const ADMIN_ONLY = (success: number): Record<Caller, number> => ({
  memberOwn: 403,
  memberOther: 403,
  security: 403,
  admin: success,
  expired: 401,
  none: 401,
});

forEachBackend((backend) => {
  let api: ApiHarness;
  let paymentsKey: string;
  let auditId: string;

  const issueAsAdmin = async (purpose: string) => {
    const issued = await api.call('admin', 'POST', '/api/v1/keys', {
      body: { provider: 'internal', team: 'payments', owner: 'alice@example.com', purpose, permissions: ['read'] },
    });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    return issued.body.key_id as string;
  };
  const etagOf = async (keyId: string) =>
    (await api.call('admin', 'GET', `/api/v1/keys/${keyId}`)).headers.get('etag')!;
  const deniedEvents = async () => (await api.running.app.events.list({ type: 'access_denied', limit: 10_000 })).length;

  beforeAll(async () => {
    api = await startApiHarness(backend);
    paymentsKey = await issueAsAdmin('card webhooks');
    await api.running.app.events.append({
      type: 'finding',
      actor: 'scan:test',
      keyId: paymentsKey,
      data: { rule: 'internal-key', file: 'app.env', line: 2 },
    });
    auditId = 'audit-2026-q4';
    await api.running.app.operational.db
      .insertInto('audit_reports')
      .values({
        id: auditId,
        as_of: '2026-12-01T00:00:00.000Z',
        generated_at: '2026-12-01T00:00:01.000Z',
        summary: JSON.stringify({ active: 7 }),
        findings: `no-owner\t${paymentsKey}`,
      })
      .execute();
  }, 120_000);
  afterAll(async () => api?.stop());

  describe('reads', () => {
    it.each(CALLERS)('GET /keys/{id}, its history and its rotations as %s', async (caller) => {
      const before = await deniedEvents();
      const key = await api.call(caller, 'GET', `/api/v1/keys/${paymentsKey}`);
      expect(key.status).toBe(READ_OWN_TEAM[caller]);
      const history = await api.call(caller, 'GET', `/api/v1/keys/${paymentsKey}/history`);
      expect(history.status).toBe(READ_OWN_TEAM[caller]);
      if (key.status === 200) {
        expect(key.body.entry).toMatchObject({ key_id: paymentsKey, owner_team: 'payments' });
        expect(key.headers.get('etag')).toMatch(/^"[\w-]+"$/);
        expect(history.body.items.map((event: { type: string }) => event.type)).toContain('issued');
      } else {
        expect(key.headers.get('content-type')).toContain('application/problem+json');
        expect(key.body).toMatchObject({ status: key.status, code: expect.stringMatching(/^E_/) });
        // Each refused request is one event.
        expect(await deniedEvents()).toBe(before + 2);
      }
    });

    it.each(CALLERS)('GET /keys, /findings, /events, /rotations, /people, /teams as %s', async (caller) => {
      for (const path of ['/keys', '/findings', '/events', '/rotations', '/people', '/teams']) {
        const listed = await api.call(caller, 'GET', `/api/v1${path}`);
        expect(listed.status, path).toBe(LIST_ANY[caller]);
        if (listed.status !== 200) continue;
        const items = listed.body.items as Array<Record<string, unknown>>;
        const seesPayments = caller !== 'memberOther';
        if (path === '/keys')
          expect(
            items.some((item) => item.key_id === paymentsKey),
            path,
          ).toBe(seesPayments);
        if (path === '/findings')
          expect(
            items.some((item) => item.key_id === paymentsKey),
            path,
          ).toBe(seesPayments);
        if (path === '/people')
          expect(
            items.some((item) => item.email === 'alice@example.com'),
            path,
          ).toBe(seesPayments);
        if (path === '/teams')
          expect(
            items.some((item) => item.team === 'payments'),
            path,
          ).toBe(seesPayments);
        if (path === '/events' && caller === 'memberOther')
          expect(items.every((item) => item.key_id !== paymentsKey)).toBe(true);
      }
    });

    it.each(CALLERS)('GET /audit-reports and one report as %s', async (caller) => {
      const list = await api.call(caller, 'GET', '/api/v1/audit-reports');
      expect(list.status).toBe(SECURITY_ONLY[caller]);
      const one = await api.call(caller, 'GET', `/api/v1/audit-reports/${auditId}`);
      expect(one.status).toBe(SECURITY_ONLY[caller]);
      if (one.status === 200)
        expect(one.body).toMatchObject({
          summary: { active: 7 },
          findings: [{ class: 'no-owner', key_id: paymentsKey }],
        });
    });

    it.each(CALLERS)('GET /tokens as %s', async (caller) => {
      const list = await api.call(caller, 'GET', '/api/v1/tokens');
      expect(list.status).toBe(ADMIN_ONLY(200)[caller]);
      if (list.status === 200) {
        expect(list.body.items).toHaveLength(5);
        expect(JSON.stringify(list.body)).not.toContain(api.tokens.admin);
      }
    });
  });

  describe('writes', () => {
    it.each(CALLERS)('POST /keys (issue for payments) as %s', async (caller) => {
      const issued = await api.call(caller, 'POST', '/api/v1/keys', {
        body: {
          provider: 'internal',
          team: 'payments',
          owner: 'alice@example.com',
          purpose: `issued by ${caller}`,
          permissions: ['read'],
        },
      });
      expect(issued.status, JSON.stringify(issued.body)).toBe(WRITE_OWN_TEAM(201)[caller]);
      if (issued.status === 201) {
        expect(issued.headers.get('location')).toBe(`/api/v1/keys/${issued.body.key_id}`);
        const shown = await api.call(caller, 'GET', `/api/v1/keys/${issued.body.key_id}`);
        expect(shown.body.entry.purpose).toBe(`issued by ${caller}`);
        expect((await api.running.app.events.list({ keyId: issued.body.key_id, type: 'issued' }))[0]?.actor).toMatch(
          /^token:/,
        );
      }
    });

    it.each(CALLERS)('POST /keys/{id}/rotations as %s, then GET /rotations/{id}', async (caller) => {
      const keyId = await issueAsAdmin(`rotate as ${caller}`);
      const etag = await etagOf(keyId);
      const started = await api.call(caller, 'POST', `/api/v1/keys/${keyId}/rotations`, {
        headers: { 'if-match': etag },
      });
      expect(started.status, JSON.stringify(started.body)).toBe(WRITE_OWN_TEAM(202)[caller]);
      if (started.status !== 202) return;
      const rotationId = started.body.rotation.rotation_id;
      const seen = await api.call(caller, 'GET', `/api/v1/rotations/${rotationId}`);
      expect(seen.status).toBe(200);
      expect(seen.body.rotation).toMatchObject({ key_id: keyId, trigger: 'manual' });
      expect((await api.call('memberOther', 'GET', `/api/v1/rotations/${rotationId}`)).status).toBe(403);
      await expect
        .poll(async () => (await api.call(caller, 'GET', `/api/v1/rotations/${rotationId}`)).body.rotation.state, {
          timeout: 20_000,
        })
        .toBe('done');
    });

    it.each(CALLERS)('POST /keys/{id}/revocation as %s', async (caller) => {
      const keyId = await issueAsAdmin(`revoke as ${caller}`);
      const revoked = await api.call(caller, 'POST', `/api/v1/keys/${keyId}/revocation`, {
        body: { reason: 'no longer used' },
        headers: { 'if-match': await etagOf(keyId) },
      });
      expect(revoked.status, JSON.stringify(revoked.body)).toBe(WRITE_OWN_TEAM(200)[caller]);
      const entry = (await api.call('admin', 'GET', `/api/v1/keys/${keyId}`)).body.entry;
      expect(entry.status).toBe(revoked.status === 200 ? 'revoked' : 'active');
    });

    it.each(CALLERS)('POST /tokens as %s: the token shown once, and it works', async (caller) => {
      const created = await api.call(caller, 'POST', '/api/v1/tokens', {
        body: { team: 'search', role: 'member', scopes: ['keys:read'], owner: 'bob@example.com' },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(ADMIN_ONLY(201)[caller]);
      if (created.status !== 201) return;
      const response = await fetch(`${api.url}/api/v1/keys`, {
        headers: { authorization: `Bearer ${created.body.token}` },
      });
      expect(response.status).toBe(200);
      // The scope is enforced: keys:read does not write.
      const write = await fetch(`${api.url}/api/v1/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${created.body.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ provider: 'internal', team: 'search', owner: 'bob@example.com', purpose: 'x y z' }),
      });
      expect(write.status).toBe(403);
      expect(await write.json()).toMatchObject({ code: 'E_SCOPE' });
    });
  });

  describe('preconditions, errors and pagination', () => {
    it('needs If-Match on writes: 428 without it, 412 when stale; 304 on a matching If-None-Match', async () => {
      const keyId = await issueAsAdmin('preconditions');
      const etag = await etagOf(keyId);
      const missing = await api.call('admin', 'POST', `/api/v1/keys/${keyId}/revocation`, {
        body: { reason: 'x' },
      });
      expect(missing.status).toBe(428);
      expect(missing.body.code).toBe('E_PRECONDITION_REQUIRED');
      const stale = await api.call('admin', 'POST', `/api/v1/keys/${keyId}/revocation`, {
        body: { reason: 'x' },
        headers: { 'if-match': '"stale"' },
      });
      expect(stale.status).toBe(412);
      expect(stale.body).toMatchObject({
        code: 'E_PRECONDITION_FAILED',
        type: 'urn:keyledger:problem:E_PRECONDITION_FAILED',
        detail: `key ${keyId} changed since it was read: read it again`,
      });
      const notModified = await fetch(`${api.url}/api/v1/keys/${keyId}`, {
        headers: { authorization: `Bearer ${api.tokens.admin}`, 'if-none-match': etag },
      });
      expect(notModified.status).toBe(304);
      expect((await api.call('admin', 'GET', `/api/v1/keys/${keyId}`)).body.entry.status).toBe('active');
    });

    it('answers a bad body, query or cursor with a 400 problem naming the field, and an unknown key with 404', async () => {
      const bad = await api.call('admin', 'POST', '/api/v1/keys', { body: { provider: 'internal', team: 'payments' } });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('E_INVALID_REQUEST');
      expect(bad.body.details.errors.map((error: { field: string }) => error.field)).toEqual(
        expect.arrayContaining(['owner', 'purpose']),
      );
      expect((await api.call('admin', 'GET', '/api/v1/keys?limit=0')).status).toBe(400);
      expect((await api.call('admin', 'GET', '/api/v1/keys?cursor=%25%25')).body.code).toBe('E_INVALID_CURSOR');
      const missing = await api.call('admin', 'GET', '/api/v1/keys/nope');
      expect(missing).toMatchObject({ status: 404, body: { code: 'E_KEY_NOT_FOUND' } });
      expect((await api.call('none', 'GET', '/api/v1/nowhere')).body.code).toBe('E_ROUTE_NOT_FOUND');
    });

    it('pages through /keys with a cursor and filters by team, status, text and due', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<ApiHarness['call']>> = await api.call(
          'security',
          'GET',
          `/api/v1/keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items.map((item: { key_id: string }) => item.key_id));
        cursor = page.body.next_cursor;
      } while (cursor);
      const all = (await api.call('security', 'GET', '/api/v1/keys?limit=500')).body.items.map(
        (item: { key_id: string }) => item.key_id,
      );
      expect(seen).toEqual(all);
      expect([...all].sort()).toEqual(all);
      const byText = await api.call('security', 'GET', '/api/v1/keys?text=CARD%20WEBHOOKS');
      expect(byText.body.items.map((item: { key_id: string }) => item.key_id)).toEqual([paymentsKey]);
      const searchTeam = await api.call('security', 'GET', '/api/v1/keys?team=search');
      expect(searchTeam.body.items.every((item: { owner_team: string }) => item.owner_team === 'search')).toBe(true);
      const revoked = await api.call('security', 'GET', '/api/v1/keys?status=revoked');
      expect(revoked.body.items.every((item: { status: string }) => item.status === 'revoked')).toBe(true);
      // Only the one-day token is past its rotation date (rotation every min(90, lifetime) days).
      const overdue = (await api.call('security', 'GET', '/api/v1/keys?due=overdue')).body.items;
      expect(
        overdue.map((item: { purpose: string; facts: { rotation_overdue: boolean } }) => [
          item.purpose,
          item.facts.rotation_overdue,
        ]),
      ).toEqual([['API token (member)', true]]);
    });

    it("pages a member's events by cursor to the same list as one page, and replays an Idempotency-Key", async () => {
      const whole = (await api.call('memberOwn', 'GET', '/api/v1/events?limit=500')).body.items;
      const paged: Array<{ seq: number }> = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<ApiHarness['call']>> = await api.call(
          'memberOwn',
          'GET',
          `/api/v1/events?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        );
        paged.push(...page.body.items);
        cursor = page.body.next_cursor;
      } while (cursor);
      expect(paged.map((event) => event.seq)).toEqual(whole.map((event: { seq: number }) => event.seq));
      expect(whole.length).toBeGreaterThan(3);

      const request = {
        body: { provider: 'internal', team: 'payments', owner: 'alice@example.com', purpose: 'idempotent issue' },
        headers: { 'idempotency-key': 'api-test-1' },
      };
      const first = await api.call('memberOwn', 'POST', '/api/v1/keys', request);
      const again = await api.call('memberOwn', 'POST', '/api/v1/keys', request);
      expect(first.body.replayed).toBe(false);
      expect(again.body).toMatchObject({ key_id: first.body.key_id, replayed: true });
    });

    it('refuses an expired token with its own code, and records the refusal against the token', async () => {
      const expired = await api.call('expired', 'GET', '/api/v1/keys');
      expect(expired).toMatchObject({ status: 401, body: { code: 'E_TOKEN_EXPIRED' } });
      const [event] = await api.running.app.events.list({ type: 'access_denied', order: 'desc', limit: 1 });
      expect(event?.data).toMatchObject({ reason: 'token expired', route: '/api/v1/keys' });
      expect(event?.keyId).toMatch(/^payments-internal-api-token-/);
    });

    it('never writes a token or an issued key into a log line, an event or a response', async () => {
      expect((await api.call('memberOther', 'GET', `/api/v1/keys/${paymentsKey}`)).status).toBe(403);
      const events = JSON.stringify(await api.running.app.events.list({ limit: 10_000 }));
      // The secret of a key issued through the API is in its store, and nowhere the API or its log shows.
      const shown = (await api.call('admin', 'GET', `/api/v1/keys/${paymentsKey}`)).body;
      const stored = await api.running.app.secretStore(shown.entry.storage.store).get(shown.entry.storage.path);
      const secret = stored!.value.reveal();
      expect(secret).toMatch(/^kl_live_/);
      for (const path of [
        `/api/v1/keys/${paymentsKey}`,
        `/api/v1/keys/${paymentsKey}/history`,
        '/api/v1/keys',
        '/api/v1/events',
      ])
        expect(JSON.stringify((await api.call('admin', 'GET', path)).body), path).not.toContain(secret);
      expect(api.logs.join('\n')).not.toContain(secret);
      expect(events).not.toContain(secret);
      for (const token of Object.values(api.tokens)) {
        expect(api.logs.join('\n')).not.toContain(token);
        expect(events).not.toContain(token);
      }
      expect(api.logs.some((line) => line.includes('"access denied"'))).toBe(true);
    });
  });
});
