// /teams and /roles for every kind of caller, over real HTTP on both database engines: a member of the team, a
// member of another team, the security role, an admin, an expired token and no token. Admins write; security reads
// every team and the grants; a member reads their own team. Each refusal is an `access_denied` event, each change
// an event of its own; PATCH and DELETE need If-Match, and DELETE is refused while registry entries name the team.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { type ApiHarness, type Caller, startApiHarness } from '../test-support/api-harness.js';

const CALLERS: Caller[] = ['memberOwn', 'memberOther', 'security', 'admin', 'expired', 'none'];

const ADMIN_ONLY = (success: number): Record<Caller, number> => ({
  memberOwn: 403,
  memberOther: 403,
  security: 403,
  admin: success,
  expired: 401,
  none: 401,
});
/** Reading the payments team: its members, security and admins. */
const READ_PAYMENTS: Record<Caller, number> = {
  memberOwn: 200,
  memberOther: 403,
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

forEachBackend((backend) => {
  let api: ApiHarness;
  const denied = async () => (await api.running.app.events.list({ type: 'access_denied', limit: 10_000 })).length;
  /** A team record made by the admin, unused by any registry entry. */
  const makeTeam = async (team: string) => {
    const created = await api.call('admin', 'POST', '/api/v1/teams', { body: { team } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.headers.get('etag')!;
  };

  beforeAll(async () => {
    api = await startApiHarness(backend);
    const issued = await api.call('admin', 'POST', '/api/v1/keys', {
      body: { provider: 'internal', team: 'payments', owner: 'alice@example.com', purpose: 'card webhooks' },
    });
    expect(issued.status).toBe(201);
  }, 120_000);
  afterAll(async () => api?.stop());

  it('lists the teams the registry and the directory name as not yet recorded, then adopted by an admin', async () => {
    const before = await api.call('security', 'GET', '/api/v1/teams');
    expect(before.status).toBe(200);
    const payments = before.body.items.find((item: { team: string }) => item.team === 'payments');
    // Two people of the people file (alice, lea), and the key issued above plus the harness's member tokens.
    expect(payments).toMatchObject({ team: 'payments', recorded: false, members: 0, people: 2 });
    expect(payments.keys).toBeGreaterThanOrEqual(1);
    expect(payments.active_keys).toBeLessThanOrEqual(payments.keys);
    const adopted = await api.call('admin', 'POST', '/api/v1/teams', {
      body: {
        team: 'payments',
        display_name: 'Payments',
        contact: 'payments-oncall@example.com',
        members: [{ email: 'alice@example.com', role: 'lead' }],
      },
    });
    expect(adopted.status, JSON.stringify(adopted.body)).toBe(201);
    expect(adopted.headers.get('location')).toBe('/api/v1/teams/payments');
    expect(adopted.headers.get('etag')).toMatch(/^"[\w-]+"$/);
    expect(adopted.body).toMatchObject({
      team: 'payments',
      recorded: true,
      display_name: 'Payments',
      contact: 'payments-oncall@example.com',
      members: [{ email: 'alice@example.com', role: 'lead' }],
      keys: { total: payments.keys },
      version: 1,
    });
    const again = await api.call('admin', 'POST', '/api/v1/teams', { body: { team: 'payments' } });
    expect(again).toMatchObject({ status: 409, body: { code: 'E_TEAM_EXISTS' } });
    const [event] = await api.running.app.events.list({ type: 'team.created', order: 'desc', limit: 1 });
    expect(event).toMatchObject({ actor: expect.stringMatching(/^token:platform-internal-api-token-/) });
    expect(event?.data).toMatchObject({ team: 'payments', contact: 'payments-oncall@example.com' });
  });

  describe('reads', () => {
    it.each(CALLERS)('GET /teams and /teams/payments as %s', async (caller) => {
      const before = await denied();
      const list = await api.call(caller, 'GET', '/api/v1/teams');
      const one = await api.call(caller, 'GET', '/api/v1/teams/payments');
      expect(one.status).toBe(READ_PAYMENTS[caller]);
      if (caller === 'expired' || caller === 'none') {
        expect(list.status).toBe(401);
        expect(await denied()).toBe(before + 2);
        return;
      }
      expect(list.status).toBe(200);
      const teams = list.body.items.map((item: { team: string }) => item.team);
      // A member sees their own team only; security and admins every team.
      if (caller === 'memberOwn') expect(teams).toEqual(['payments']);
      if (caller === 'memberOther') expect(teams).toEqual(['search']);
      if (caller === 'security' || caller === 'admin')
        expect(teams).toEqual(expect.arrayContaining(['payments', 'search', 'security', 'platform']));
      if (one.status === 200) {
        expect(one.body).toMatchObject({ team: 'payments', recorded: true });
        expect(one.headers.get('etag')).toMatch(/^"[\w-]+"$/);
      } else {
        expect(one.body).toMatchObject({ status: 403, code: 'E_FORBIDDEN' });
        expect(await denied()).toBe(before + 1);
      }
    });

    it.each(CALLERS)('GET /roles as %s', async (caller) => {
      expect((await api.call(caller, 'GET', '/api/v1/roles')).status).toBe(SECURITY_ONLY[caller]);
    });

    it('answers 404 for a team nobody names, and 400 for a slug that cannot be one', async () => {
      expect(await api.call('admin', 'GET', '/api/v1/teams/nowhere')).toMatchObject({
        status: 404,
        body: { code: 'E_TEAM_NOT_FOUND' },
      });
      expect((await api.call('admin', 'GET', '/api/v1/teams/a%20b')).body.code).toBe('E_INVALID_REQUEST');
    });
  });

  describe('writes', () => {
    it.each(CALLERS)('POST /teams as %s', async (caller) => {
      const before = await denied();
      const created = await api.call(caller, 'POST', '/api/v1/teams', {
        body: { team: `made-by-${caller}`, description: 'a team' },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(ADMIN_ONLY(201)[caller]);
      if (created.status !== 201) expect(await denied()).toBe(before + 1);
    });

    it.each(CALLERS)('PATCH /teams/{team} as %s (If-Match)', async (caller) => {
      const etag = await makeTeam(`patched-by-${caller}`);
      const patched = await api.call(caller, 'PATCH', `/api/v1/teams/patched-by-${caller}`, {
        body: { contact: 'oncall@example.com' },
        headers: { 'if-match': etag },
      });
      expect(patched.status, JSON.stringify(patched.body)).toBe(ADMIN_ONLY(200)[caller]);
      if (patched.status !== 200) return;
      expect(patched.body).toMatchObject({ contact: 'oncall@example.com', version: 2 });
      expect(patched.headers.get('etag')).not.toBe(etag);
    });

    it.each(CALLERS)('PUT and DELETE /teams/{team}/members/{email} as %s', async (caller) => {
      const team = `members-by-${caller}`;
      await makeTeam(team);
      const added = await api.call(caller, 'PUT', `/api/v1/teams/${team}/members/dana@example.com`, {
        body: { role: 'lead' },
      });
      expect(added.status, JSON.stringify(added.body)).toBe(ADMIN_ONLY(201)[caller]);
      const removed = await api.call(caller, 'DELETE', `/api/v1/teams/${team}/members/dana@example.com`);
      expect(removed.status).toBe(ADMIN_ONLY(200)[caller]);
      if (added.status !== 201) return;
      expect(added.body.members).toEqual([expect.objectContaining({ email: 'dana@example.com', role: 'lead' })]);
      // Again: already so (200), and the second removal finds no one (404).
      expect(
        (await api.call(caller, 'PUT', `/api/v1/teams/${team}/members/dana@example.com`, { body: {} })).status,
      ).toBe(201);
      expect(
        (await api.call(caller, 'PUT', `/api/v1/teams/${team}/members/dana@example.com`, { body: {} })).status,
      ).toBe(200);
      expect((await api.call(caller, 'DELETE', `/api/v1/teams/${team}/members/dana@example.com`)).status).toBe(200);
      expect(await api.call(caller, 'DELETE', `/api/v1/teams/${team}/members/dana@example.com`)).toMatchObject({
        status: 404,
        body: { code: 'E_TEAM_MEMBER_NOT_FOUND' },
      });
    });

    it.each(CALLERS)('DELETE /teams/{team} as %s (If-Match)', async (caller) => {
      const etag = await makeTeam(`deleted-by-${caller}`);
      const deleted = await api.call(caller, 'DELETE', `/api/v1/teams/deleted-by-${caller}`, {
        headers: { 'if-match': etag },
      });
      expect(deleted.status, JSON.stringify(deleted.body)).toBe(ADMIN_ONLY(200)[caller]);
      const after = await api.call('admin', 'GET', `/api/v1/teams/deleted-by-${caller}`);
      expect(after.status).toBe(deleted.status === 200 ? 404 : 200);
    });

    it.each(CALLERS)('PUT and DELETE /roles/{role}/people/{email} as %s', async (caller) => {
      const email = `granted-by-${caller}@example.com`;
      const granted = await api.call(caller, 'PUT', `/api/v1/roles/security/people/${email}`);
      expect(granted.status, JSON.stringify(granted.body)).toBe(ADMIN_ONLY(201)[caller]);
      const revoked = await api.call(caller, 'DELETE', `/api/v1/roles/security/people/${email}`);
      expect(revoked.status).toBe(ADMIN_ONLY(200)[caller]);
      if (granted.status !== 201) return;
      expect(granted.body).toMatchObject({ email, role: 'security', created: true });
      expect(
        (await api.running.app.events.list({ type: 'role.granted', order: 'desc', limit: 1 }))[0]?.data,
      ).toMatchObject({ email, role: 'security' });
    });
  });

  describe('preconditions and refusals', () => {
    it('needs If-Match on PATCH and DELETE: 428 without, 412 when stale; a body naming nothing is a 400', async () => {
      const etag = await makeTeam('preconditions');
      const missing = await api.call('admin', 'PATCH', '/api/v1/teams/preconditions', { body: { contact: 'x' } });
      expect(missing).toMatchObject({ status: 428, body: { code: 'E_PRECONDITION_REQUIRED' } });
      expect(missing.body.detail).toBe('send If-Match with the ETag of team "preconditions" as you read it');
      const stale = await api.call('admin', 'DELETE', '/api/v1/teams/preconditions', {
        headers: { 'if-match': '"stale"' },
      });
      expect(stale).toMatchObject({ status: 412, body: { code: 'E_PRECONDITION_FAILED' } });
      // The shared check names the resource it guards, not a key (src/server/api/api-route.ts).
      expect(stale.body.detail).toBe('team "preconditions" changed since it was read: read it again');
      // A member added since the read changes the ETag: the old one no longer deletes.
      const added = await api.call('admin', 'PUT', '/api/v1/teams/preconditions/members/erin@example.com', {
        body: {},
      });
      expect(added.body.members).toEqual([expect.objectContaining({ email: 'erin@example.com', role: 'member' })]);
      const lead = await api.call('admin', 'PUT', '/api/v1/teams/preconditions/members/erin@example.com', {
        body: { role: 'lead' },
      });
      expect(lead.status).toBe(200);
      expect(lead.body.members).toEqual([expect.objectContaining({ email: 'erin@example.com', role: 'lead' })]);
      const outdated = await api.call('admin', 'DELETE', '/api/v1/teams/preconditions', {
        headers: { 'if-match': etag },
      });
      expect(outdated.status).toBe(412);
      const empty = await api.call('admin', 'PATCH', '/api/v1/teams/preconditions', {
        body: {},
        headers: { 'if-match': etag },
      });
      expect(empty).toMatchObject({ status: 400, body: { code: 'E_INVALID_REQUEST' } });
    });

    it('refuses to delete a team registry entries still name, with a problem detail naming them', async () => {
      const etag = (await api.call('admin', 'GET', '/api/v1/teams/payments')).headers.get('etag')!;
      const refused = await api.call('admin', 'DELETE', '/api/v1/teams/payments', { headers: { 'if-match': etag } });
      expect(refused.status).toBe(409);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(refused.body).toMatchObject({
        code: 'E_TEAM_IN_USE',
        details: { keys: expect.any(Number), key_ids: expect.arrayContaining([expect.stringMatching(/^payments-/)]) },
      });
      expect((await api.call('admin', 'GET', '/api/v1/teams/payments')).body.recorded).toBe(true);
    });

    it('gives every change its own event, naming the token that made it', async () => {
      const types = new Set(
        (await api.running.app.events.list({ limit: 10_000 }))
          .filter((event) => event.type.startsWith('team.') || event.type.startsWith('role.'))
          .map((event) => `${event.type} ${event.actor.startsWith('token:') ? 'token' : event.actor}`),
      );
      expect([...types].sort()).toEqual([
        'role.granted token',
        'role.revoked token',
        'team.created token',
        'team.deleted token',
        'team.member_added token',
        'team.member_changed token',
        'team.member_removed token',
        'team.updated token',
      ]);
    });
  });
});
