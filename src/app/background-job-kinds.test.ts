// The replica's background worker on both engines, over a real app: the audit-log ingest the server's config
// schedules runs on its tick (once, though two replicas schedule it) and counts the configured folder; a discovery run
// and a ticket sync added by hand (`keyledger jobs enqueue`) are run by a replica's worker and leave their results.
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { type IdpTestServer, startIdpTestServer } from '../idp/test-support/idp-test-server.js';
import { JobQueue } from '../jobs/job-queue.js';
import { systemClock } from '../runtime/clock.js';
import { createLogger } from '../telemetry/logger.js';
import { AUDIT_LOG_INGEST, backgroundJob, DISCOVERY_RUN, TICKETS_SYNC } from './background-job-kinds.js';
import { type RunningReplica, startReplica } from './replica-worker.js';

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const record = (n: number) =>
  JSON.stringify({
    eventVersion: '1.08',
    eventSource: 'sts.amazonaws.com',
    eventName: 'GetCallerIdentity',
    eventTime: `2026-11-01T10:${String(n).padStart(2, '0')}:00Z`,
    sourceIPAddress: '10.1.2.3',
    userIdentity: { type: 'IAMUser', accessKeyId: 'AKIAUNREGISTERED0001', arn: 'arn:aws:iam::1:user/x' },
  });

forEachBackend((backend) => {
  let hosts: IdpTestServer[] = [];
  let replicas: RunningReplica[] = [];
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'jobs-bg-replica-logs-'));
  });
  afterEach(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await Promise.all(hosts.map((host) => host.close()));
    replicas = [];
    hosts = [];
    await rm(folder, { recursive: true, force: true });
  });

  it('runs the configured ingest once per tick across two replicas, and hand-queued discovery and ticket sync', async () => {
    const file = join(folder, 'trail.jsonl');
    await writeFile(file, Array.from({ length: 7 }, (_, n) => record(n)).join('\n'));
    const past = new Date(Date.now() - 3_600_000);
    await utimes(file, past, past);
    const first = await startIdpTestServer(backend, []);
    const second = await startIdpTestServer(backend, [], { replicaOf: first });
    hosts = [first, second];
    const logger = createLogger({ level: 'silent', write: () => undefined });
    const jobs = {
      auditLogIngest: { schedule: '* * * * * *', paths: [folder], format: 'cloudtrail' as const, minAgeSeconds: 60 },
    };
    // Two replicas over one database, each scheduling the ingest every second.
    replicas = await Promise.all(
      hosts.map((host) =>
        startReplica(host.app, { clock: systemClock, logger, jobs, pollMs: 25, schedule: '0 0 1 1 *' }),
      ),
    );
    const queue = new JobQueue(first.app.operational.db, systemClock);
    await waitFor(async () => (await queue.list({ kind: AUDIT_LOG_INGEST, states: ['done'] })).length >= 2);
    await Promise.all(replicas.map((replica) => replica.stop()));
    const done = await queue.list({ kind: AUDIT_LOG_INGEST });
    const ticks = await first.app.operational.db
      .selectFrom('job_ticks')
      .select(['tick', 'job_id'])
      .where('schedule', '=', AUDIT_LOG_INGEST)
      .execute();
    // One job per tick (never two for one tick), and the file read by exactly one of them.
    expect(new Set(ticks.map((tick) => tick.tick)).size).toBe(ticks.length);
    expect(done.every((job) => JSON.parse(job.payload).tick)).toBe(true);
    expect(new Set(done.map((job) => JSON.parse(job.payload).tick)).size).toBe(done.length);
    const results = done.filter((job) => job.state === 'done').map((job) => JSON.parse(job.result!));
    expect(results.filter((result) => result.read === 1)).toHaveLength(1);
    expect(results.find((result) => result.read === 1)).toMatchObject({ records: 7 });
    const counted = await first.app.operational.db
      .selectFrom('audit_usage')
      .select((eb) => eb.fn.sum<number>('count').as('uses'))
      .executeTakeFirst();
    expect(Number(counted?.uses)).toBe(7);

    // By hand, as `keyledger jobs enqueue` adds them: any replica's worker runs them.
    replicas = [await startReplica(second.app, { clock: systemClock, logger, pollMs: 25, schedule: '0 0 1 1 *' })];
    const discovery = (await queue.enqueue(backgroundJob(DISCOVERY_RUN)))!;
    const sync = (await queue.enqueue(backgroundJob(TICKETS_SYNC)))!;
    await waitFor(async () => (await queue.get(discovery.job_id))!.state === 'done');
    await waitFor(async () => (await queue.get(sync.job_id))!.state === 'done');
    // Every configured provider listed (this registry's: the built-in ones); no ticket sink: nothing to sweep.
    const listed = JSON.parse((await queue.get(discovery.job_id))!.result!).providers as Array<{ provider: string }>;
    expect(listed.map((result) => result.provider)).toEqual(second.app.configuredProviders());
    expect(listed.length).toBeGreaterThan(0);
    expect(JSON.parse((await queue.get(sync.job_id))!.result!)).toEqual({ skipped: 'no ticket sink configured' });
  });
});
