// The server's offboarding module on both engines: a departure written to the directory store while the module
// listens becomes a finished job without the writer waiting for it; a departure heard while nothing listened is
// taken at the next start (redeliverDepartures); a job a crash left `running` is finished at the next start; a
// repeated or older signal opens nothing; closing waits for the run in flight.
import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { directoryFor } from '../directory/directory-store.js';
import type { DirectorySignal, IdentitySource } from '../directory/identity-source.js';
import { type IdpTestServer, PUBLIC_URL, startIdpTestServer } from '../idp/test-support/idp-test-server.js';
import { OffboardingJobs } from '../offboarding/offboarding-jobs.js';
import type { OffboardingQueue } from '../offboarding/offboarding-queue.js';
import { createLogger } from '../telemetry/logger.js';
import { createOffboardingModule } from './offboarding-module.js';

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
  async function startModule() {
    let queue: OffboardingQueue | undefined;
    const server = Fastify({ logger: false });
    const lines: string[] = [];
    await createOffboardingModule({
      identitySources: async () => [okta],
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

    it('takes departures heard while nothing listened, and jobs a crash left running, at the next start', async () => {
      const directory = directoryFor(host.app.operational.db, host.clock);
      // Heard before the module ran: the store keeps the departure pending.
      await directory.apply(signal('bo@example.com', 'scim:bo:create', 'active', '2026-01-01T00:00:00Z'));
      await directory.apply(signal('bo@example.com', 'scim:bo:off', 'deprovisioned', '2026-12-07T09:00:00Z'));
      // A job opened by an earlier process that died before running it.
      const jobs = new OffboardingJobs(host.app.operational.db, host.clock);
      const cy = { id: 'cy', email: 'cy@example.com', status: 'deprovisioned' as const, source: 'scim' };
      await jobs.open(cy, signal('cy@example.com', 'scim:cy:off', 'deprovisioned', '2026-12-07T08:00:00Z'), 'x');
      expect((await jobs.get('cy@example.com'))?.state).toBe('running');

      const { server, queue, lines } = await startModule();
      await queue.idle();
      expect((await jobs.get('bo@example.com'))?.state).toBe('done');
      expect((await jobs.get('cy@example.com'))?.state).toBe('done');
      expect([...revoked].sort()).toEqual(['bo@example.com', 'cy@example.com']);
      expect(lines.join('\n')).toContain('offboarding picked up where it stopped');
      await server.close();

      // Nothing pending any more: a further start does nothing.
      const again = await startModule();
      await again.queue.idle();
      expect(revoked).toHaveLength(2);
      await again.server.close();
    });
  });
});
