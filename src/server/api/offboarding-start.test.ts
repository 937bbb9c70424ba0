// POST /api/v1/offboarding over real HTTP on both database engines, for every kind of caller: a dry run answers
// the plan (security role) and changes nothing; a start (admin role) records a manual departure and the server's
// offboarding queue runs the job, found at the answered location; repeated requests (with and without an
// Idempotency-Key) start nothing twice; a person the directory already shows gone, with no job, is started too.
// Every refusal is one access_denied event.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { DirectoryStore, directoryFor } from '../../directory/directory-store.js';
import { offboardingRunnerFor } from '../offboarding-runner.js';
import { type ApiHarness, type Caller, startApiHarness } from '../test-support/api-harness.js';
import { OFFBOARDING_REQUESTED_EVENT } from './offboarding-start.js';

const CALLERS: Caller[] = ['memberOwn', 'memberOther', 'security', 'admin', 'expired', 'none'];
const DRY_RUN: Record<Caller, number> = {
  memberOwn: 403,
  memberOther: 403,
  security: 200,
  admin: 200,
  expired: 401,
  none: 401,
};
const START: Record<Caller, number> = {
  memberOwn: 403,
  memberOther: 403,
  security: 403,
  admin: 202,
  expired: 401,
  none: 401,
};

/** Active people of payments whose keys the tests issue, then offboard (or plan to). */
const MORE_PEOPLE = ['dora', 'eve', 'finn', 'gus', 'hal', 'ivy']
  .map((name) => `${name}@example.com,${name},payments,active,\n`)
  .join('');

forEachBackend((backend) => {
  let api: ApiHarness;
  const issueFor = async (owner: string, purpose: string) => {
    const issued = await api.call('admin', 'POST', '/api/v1/keys', {
      body: { provider: 'internal', team: 'payments', owner, purpose, permissions: ['read'] },
    });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    return issued.body.key_id as string;
  };
  const denied = async () => (await api.running.app.events.list({ type: 'access_denied', limit: 10_000 })).length;
  const idle = () => offboardingRunnerFor(api.running.app.operational.db)!.queue.idle();
  const ownerOf = async (keyId: string) =>
    (await api.call('admin', 'GET', `/api/v1/keys/${keyId}`)).body.entry.owner_individual as string | undefined;

  beforeAll(async () => {
    api = await startApiHarness(backend, { morePeople: MORE_PEOPLE });
  }, 120_000);
  afterAll(async () => api?.stop());

  it.each(CALLERS)('a dry run as %s answers the plan and changes nothing', async (caller) => {
    const keyId = await issueFor('dora@example.com', `dry run as ${caller}`);
    const before = await denied();
    const planned = await api.call(caller, 'POST', '/api/v1/offboarding', {
      body: { email: 'Dora@Example.com', dryRun: true },
    });
    expect(planned.status, JSON.stringify(planned.body)).toBe(DRY_RUN[caller]);
    if (planned.status === 200) {
      expect(planned.body).toMatchObject({ email: 'dora@example.com', dryRun: true });
      expect(planned.body.keys.map((key: { keyId: string }) => key.keyId)).toContain(keyId);
      expect(planned.body.steps.some((step: { keyId?: string }) => step.keyId === keyId)).toBe(true);
      expect(await denied()).toBe(before);
    } else {
      expect(planned.headers.get('content-type')).toContain('application/problem+json');
      expect(await denied()).toBe(before + 1);
    }
    // Nothing written: no job, the directory has not heard of Dora, the key is still hers.
    expect((await api.call('admin', 'GET', '/api/v1/offboarding/dora@example.com')).status).toBe(404);
    expect(await directoryFor(api.running.app.operational.db, api.clock).find('dora@example.com')).toBeUndefined();
    expect(await ownerOf(keyId)).toBe('dora@example.com');
  });

  it.each(CALLERS)('a start as %s is for admins only, each refusal an event', async (caller) => {
    if (caller === 'admin') return; // the admin's start is the next test, followed through to the report
    const before = await denied();
    const refused = await api.call(caller, 'POST', '/api/v1/offboarding', { body: { email: 'eve@example.com' } });
    expect(refused.status).toBe(START[caller]);
    expect(refused.body).toMatchObject({ status: START[caller], code: expect.stringMatching(/^E_/) });
    expect(await denied()).toBe(before + 1);
    expect((await api.call('admin', 'GET', '/api/v1/offboarding/eve@example.com')).status).toBe(404);
  });

  it('an admin starts a job (202 + location); the queue runs it; a repeat starts nothing', async () => {
    const keys = [await issueFor('ivy@example.com', 'ivy one'), await issueFor('ivy@example.com', 'ivy two')];
    const started = await api.call('admin', 'POST', '/api/v1/offboarding', { body: { email: 'ivy@example.com' } });
    expect(started.status, JSON.stringify(started.body)).toBe(START.admin);
    expect(started.headers.get('location')).toBe('/api/v1/offboarding/ivy%40example.com');
    expect(started.body).toMatchObject({ email: 'ivy@example.com', dryRun: false, started: true, replayed: false });
    await idle();
    const report = await api.call('security', 'GET', started.headers.get('location')!);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ jobId: started.body.jobId, state: 'done', signal: { source: 'manual' } });
    expect(report.body.counts.failed).toBe(0);
    for (const keyId of keys) expect(await ownerOf(keyId)).not.toBe('ivy@example.com');
    // Recorded in the directory as a manual departure.
    const person = await directoryFor(api.running.app.operational.db, api.clock).find('ivy@example.com');
    expect(person).toMatchObject({ status: 'deprovisioned', source: 'manual', team: 'payments' });

    const again = await api.call('admin', 'POST', '/api/v1/offboarding', { body: { email: 'ivy@example.com' } });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ jobId: started.body.jobId, state: 'done', started: false });
    await idle();
    const requested = await api.running.app.events.list({ type: OFFBOARDING_REQUESTED_EVENT, limit: 100 });
    expect(requested.filter((event) => event.data?.email === 'ivy@example.com')).toHaveLength(2);
    expect(requested.every((event) => event.actor.startsWith('token:'))).toBe(true);
  });

  it('an Idempotency-Key replays the first answer; reused for another person it is refused', async () => {
    const keyId = await issueFor('finn@example.com', 'finn');
    const request = {
      body: { email: 'finn@example.com' },
      headers: { 'idempotency-key': `offboard-finn-${backend.dialect}` },
    };
    const first = await api.call('admin', 'POST', '/api/v1/offboarding', request);
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.body).toMatchObject({ started: true, replayed: false });
    const replay = await api.call('admin', 'POST', '/api/v1/offboarding', request);
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual({ ...first.body, replayed: true });
    const other = await api.call('admin', 'POST', '/api/v1/offboarding', {
      ...request,
      body: { email: 'gus@example.com' },
    });
    expect(other.status).toBe(409);
    await idle();
    expect(await ownerOf(keyId)).not.toBe('finn@example.com');
    const jobs = await api.call('security', 'GET', '/api/v1/offboarding');
    expect(jobs.body.items.filter((job: { email: string }) => job.email === 'finn@example.com')).toHaveLength(1);
    expect(jobs.body.items.some((job: { email: string }) => job.email === 'gus@example.com')).toBe(false);
  });

  it('starts a person the directory already shows deprovisioned who has no job yet', async () => {
    const keyId = await issueFor('hal@example.com', 'hal');
    // Heard while nothing listened (a store with no listeners): the person is gone, no job was opened.
    const unheard = new DirectoryStore({ db: api.running.app.operational.db, clock: api.clock });
    await unheard.apply({
      signalId: `scim:hal:${backend.dialect}`,
      source: 'scim',
      email: 'hal@example.com',
      status: 'deprovisioned',
      at: api.clock().toISOString(),
    });
    expect((await api.call('admin', 'GET', '/api/v1/offboarding/hal@example.com')).status).toBe(404);
    const started = await api.call('admin', 'POST', '/api/v1/offboarding', { body: { email: 'hal@example.com' } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(started.body.started).toBe(true);
    await idle();
    const report = await api.call('admin', 'GET', '/api/v1/offboarding/hal@example.com');
    expect(report.body.state).toBe('done');
    expect(await ownerOf(keyId)).not.toBe('hal@example.com');
  });

  it('refuses a body that is not an email, naming the field', async () => {
    const bad = await api.call('admin', 'POST', '/api/v1/offboarding', { body: { email: 'not-an-email' } });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('E_INVALID_REQUEST');
    expect(bad.body.details.errors).toEqual([expect.objectContaining({ in: 'body', field: 'email' })]);
  });
});
