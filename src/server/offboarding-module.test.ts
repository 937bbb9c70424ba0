// The server's offboarding module on both engines: a departure written to the directory store while the module
// listens becomes an `offboarding.depart` job in the shared queue and then a finished journal job, without the
// writer waiting for it; a departure heard while nothing listened is taken at the next start (redeliverDepartures);
// a run a dead replica held is taken over once its lease ran out; a departure heard over SCIM by a replica without a
// worker is run by another replica's worker; a repeated or older signal opens nothing.
import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { directoryFor } from '../directory/directory-store.js';
import type { DirectorySignal, IdentitySource } from '../directory/identity-source.js';
import { createIdpCredential } from '../directory/idp-credentials.js';
import { createScimModule } from '../idp/scim/scim-module.js';
import { type IdpTestServer, PUBLIC_URL, startIdpTestServer } from '../idp/test-support/idp-test-server.js';
import { scimClient, scimFixture } from '../idp/test-support/scim-client.js';
import { JobQueue } from '../jobs/job-queue.js';
import { OFFBOARDING_DEPART, offboardingDepartJob } from '../offboarding/offboarding-depart-job.js';
import { OffboardingJobs } from '../offboarding/offboarding-jobs.js';
import type { OffboardingQueue } from '../offboarding/offboarding-queue.js';
import { createLogger } from '../telemetry/logger.js';
import { createOffboardingModule, type OffboardingModuleOptions } from './offboarding-module.js';

forEachBackend((backend) => {
  let host: IdpTestServer;
  const revoked: string[] = [];
  const okta: IdentitySource = {
    name: 'okta',
    async *listPeople() {},
    async revokeSessions(person) {
      revoked.push(person.email);
      return { revoked: true, detail: 'ended' };
    },
  };

  beforeEach(async () => {
    revoked.length = 0;
    host = await startIdpTestServer(backend, []);
  });
  afterEach(() => host.close());

  /** A server process with only the offboarding module, over the test host's app (as a restart would be). */
  async function startModule(options: Omit<OffboardingModuleOptions, 'onQueue'> = {}) {
    let queue: OffboardingQueue | undefined;
    const server = Fastify({ logger: false });
    const lines: string[] = [];
    await createOffboardingModule({
      identitySources: async () => [okta],
      pollMs: 50,
      ...options,
      onQueue: (heard) => {
        queue = heard;
      },
    }).register(server, {
      app: host.app,
      clock: host.clock,
      logger: createLogger({ level: 'info', write: (line) => lines.push(line) }),
      publicUrl: PUBLIC_URL,
    });
    await server.ready();
    return { server, queue: queue!, lines };
  }

  const signal = (email: string, id: string, status: DirectorySignal['status'], at: string): DirectorySignal => ({
    signalId: id,
    source: 'scim',
    email,
    status,
    at,
  });

  describe('the offboarding module', () => {
    it('turns a departure in the directory into a finished job, off the writer’s path', async () => {
      const { server, queue } = await startModule();
      const directory = directoryFor(host.app.operational.db, host.clock);
      await directory.apply(signal('ada@example.com', 'scim:ada:create', 'active', '2026-01-01T00:00:00Z'));
      const applied = await directory.apply(
        signal('ada@example.com', 'scim:ada:off', 'deprovisioned', '2026-12-07T09:00:00Z'),
      );
      expect(applied.departed).toBe(true);
      const jobs = new OffboardingJobs(host.app.operational.db, host.clock);
      // The job is recorded before the writer gets its answer; the run itself is queued.
      expect((await jobs.get('ada@example.com'))?.signal.signalId).toBe('scim:ada:off');
      await queue.idle();
      expect((await jobs.get('ada@example.com'))?.state).toBe('done');
      expect(revoked).toEqual(['ada@example.com']);
      // The same signal again, and an older one late: no second run.
      await directory.apply(signal('ada@example.com', 'scim:ada:off', 'deprovisioned', '2026-12-07T09:00:00Z'));
      await directory.apply(signal('ada@example.com', 'okta:ada:old', 'active', '2025-01-01T00:00:00Z'));
      await queue.idle();
      expect(revoked).toEqual(['ada@example.com']);
      expect(await jobs.list()).toHaveLength(1);
      await server.close();
    });

    it('takes departures heard while nothing listened at start, and a dead replica’s run once its lease ran out', async () => {
      const directory = directoryFor(host.app.operational.db, host.clock);
      // Heard before the module ran: the store keeps the departure pending.
      await directory.apply(signal('bo@example.com', 'scim:bo:create', 'active', '2026-01-01T00:00:00Z'));
      await directory.apply(signal('bo@example.com', 'scim:bo:off', 'deprovisioned', '2026-12-07T09:00:00Z'));
      // A departure an earlier replica queued, claimed and then died holding (SIGKILL: no release, no renewal).
      const jobs = new OffboardingJobs(host.app.operational.db, host.clock);
      const queue = new JobQueue(host.app.operational.db, host.clock);
      const cy = { id: 'cy', email: 'cy@example.com', status: 'deprovisioned' as const, source: 'scim' };
      const cySignal = signal('cy@example.com', 'scim:cy:off', 'deprovisioned', '2026-12-07T08:00:00Z');
      const held = (await queue.enqueue(offboardingDepartJob(cy, cySignal)))!;
      await jobs.open(cy, cySignal, 'x');
      expect(await queue.claim('dead-replica', [OFFBOARDING_DEPART], 1, 30_000)).toHaveLength(1);

      const { server, queue: departures, lines } = await startModule({ leaseMs: 30_000 });
      await departures.idle();
      expect((await jobs.get('bo@example.com'))?.state).toBe('done');
      // Still leased to the dead replica: nobody runs it before the lease runs out.
      expect((await jobs.get('cy@example.com'))?.state).toBe('running');
      expect((await queue.get(held.job_id))?.lease_owner).toBe('dead-replica');
      host.clock.advance(30_001);
      await departures.idle();
      expect((await jobs.get('cy@example.com'))?.state).toBe('done');
      const taken = (await queue.get(held.job_id))!;
      expect(taken).toMatchObject({ state: 'done', lease_owner: null });
      expect(Number(taken.attempts)).toBe(2);
      expect([...revoked].sort()).toEqual(['bo@example.com', 'cy@example.com']);
      expect(lines.join('\n')).toContain('offboarding took the departures heard while nothing listened');
      await server.close();

      // Nothing pending any more: a further start does nothing.
      const again = await startModule();
      await again.queue.idle();
      expect(revoked).toHaveLength(2);
      await again.server.close();
    });

    it('runs a departure heard over SCIM on a replica without a worker on another replica’s worker', async () => {
      const ranOn: Array<[string, string]> = [];
      const oktaOf = (replica: string): IdentitySource => ({
        name: 'okta',
        async *listPeople() {},
        async revokeSessions(person) {
          ranOn.push([replica, person.email]);
          return { revoked: true, detail: 'ended' };
        },
      });
      let queueOnB: OffboardingQueue | undefined;
      const a = await startIdpTestServer(backend, [
        createScimModule(),
        createOffboardingModule({ identitySources: async () => [oktaOf('a')], worker: false, replicaId: 'replica-a' }),
      ]);
      const b = await startIdpTestServer(
        backend,
        [
          createOffboardingModule({
            identitySources: async () => [oktaOf('b')],
            replicaId: 'replica-b',
            pollMs: 50,
            onQueue: (heard) => {
              queueOnB = heard;
            },
          }),
        ],
        { replicaOf: a },
      );
      try {
        const token = await createIdpCredential(a.app.operational.db, 'scim', { clock: a.clock, actor: 'test' });
        const scim = scimClient(a.url, token.secret);
        const created = await scim('POST', '/Users', scimFixture('okta-create-user.json'));
        expect(created.status).toBe(201);
        const patched = await scim('PATCH', `/Users/${created.body.id}`, scimFixture('okta-oin-deactivate-patch.json'));
        expect(patched.status).toBe(200);
        // Replica A answered SCIM with the job queued and journalled; replica B's worker runs it.
        const [queued] = await new JobQueue(a.app.operational.db, a.clock).list({ kind: OFFBOARDING_DEPART });
        expect(queued).toBeDefined();
        await queueOnB!.idle();
        const jobs = new OffboardingJobs(b.app.operational.db, b.clock);
        expect((await jobs.get('test.user@okta.local'))?.state).toBe('done');
        expect(ranOn).toEqual([['b', 'test.user@okta.local']]);
        const done = await new JobQueue(b.app.operational.db, b.clock).get(queued!.job_id);
        expect(done).toMatchObject({ state: 'done' });
        expect(Number(done!.attempts)).toBe(1);
        expect(JSON.parse(done!.result!)).toMatchObject({ state: 'done' });
      } finally {
        await b.close();
        await a.close();
      }
    });
  });
});
