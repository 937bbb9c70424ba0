// `keyledger jobs` on both engines, in-process against a real store: lists the shared queue newest first, filters by
// kind and state (JSON with the holder of a running job), adds a discovery run by hand once (a second while it is
// open adds nothing), and refuses kinds that belong to a workflow.
import { expect, it } from 'vitest';
import { forEachBackend, type TestDatabase } from '../../db/test-support/test-databases.js';
import { JobQueue } from '../../jobs/job-queue.js';
import { fixedClock } from '../../runtime/clock.js';
import { runCli } from '../test-support/run-cli.js';

function envFor(database: TestDatabase): NodeJS.ProcessEnv {
  return {
    KEYLEDGER_DATA_DIR: database.options.dataDir,
    KEYLEDGER_DATABASE_URL: database.options.databaseUrl ?? '',
  };
}

forEachBackend((backend) => {
  it('lists the queue, filters it by kind and state, and enqueues a background job once', async () => {
    const database = await backend.createDatabase();
    const store = await database.open();
    const clock = fixedClock('2026-12-07T10:00:00.000Z');
    const queue = new JobQueue(store.db, clock);
    await queue.enqueue({ kind: 'rotation.rotate', payload: { keyId: 'payments-stripe-001' } });
    clock.advance(1_000);
    await queue.enqueue({ kind: 'offboarding.depart', payload: { person: { email: 'ada@example.com' } } });
    await queue.claim('replica-a', ['offboarding.depart'], 1, 60_000);
    await store.close();
    const run = (args: string[]) =>
      runCli(['jobs', ...args], { cwd: database.options.dataDir, env: envFor(database), now: '2026-12-07T10:00:05Z' });

    const table = await run([]);
    expect(table).toMatchObject({ code: 0, stderr: '' });
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^JOB\s+KIND\s+STATE\s+TRIES\s+RUN AT\s+HELD BY \(UNTIL\)\s+OUTCOME$/);
    expect(lines.slice(2).map((line) => line.split(/\s+/)[1])).toEqual(['offboarding.depart', 'rotation.rotate']);

    const running = await run(['--state', 'running', '--json']);
    expect(running.code).toBe(0);
    const parsed = JSON.parse(running.stdout);
    expect(parsed.jobs).toHaveLength(1);
    expect(parsed.jobs[0]).toMatchObject({ kind: 'offboarding.depart', state: 'running', leaseOwner: 'replica-a' });
    expect(parsed.counts).toContainEqual({ kind: 'rotation.rotate', state: 'queued', count: 1 });
    expect(JSON.parse((await run(['--kind', 'rotation.rotate', '--json'])).stdout).jobs).toHaveLength(1);

    const added = await run(['enqueue', 'discovery.run', '--json']);
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ added: true, job: { kind: 'discovery.run', state: 'queued' } });
    expect(JSON.parse((await run(['enqueue', 'discovery.run', '--json'])).stdout)).toMatchObject({ added: false });
    expect(JSON.parse((await run(['--kind', 'discovery.run', '--json'])).stdout).jobs).toHaveLength(1);

    const refused = await run(['enqueue', 'rotation.rotate']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('jobs enqueue needs a kind: discovery.run, audit-log.ingest, tickets.sync');
    expect((await run(['--state', 'stuck'])).code).toBe(2);
  });
});
