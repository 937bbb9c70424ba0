// The job queue on both engines: dedupe of open jobs, claims that never hand one job to two owners (concurrent
// claimers on PostgreSQL's pool), leases that expire and are taken over, fencing of a late holder, back-off and
// giving up, ticks that run once, and the worker loop over real handlers.
import { describe, expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { JobInterrupted, JobKindTable, RetryJobAt } from './job-kind.js';
import { backoffMs, JobQueue } from './job-queue.js';
import { JobScheduler } from './job-schedule.js';
import { JobWorker } from './job-worker.js';
import { ReplicaHeartbeats } from './replica-heartbeats.js';

function movableClock(start = Date.parse('2026-12-07T10:00:00.000Z')) {
  let now = start;
  const clock = () => new Date(now);
  return Object.assign(clock, { advance: (ms: number) => (now += ms) });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

forEachBackend((backend) => {
  it('keeps one open job per dedupe key, and takes a new one once it finished', async () => {
    const store = await backend.open();
    const queue = new JobQueue(store.db, movableClock());
    const first = await queue.enqueue({ kind: 'k', payload: { n: 1 }, dedupeKey: 'key-1' });
    expect(first).toBeDefined();
    expect(await queue.enqueue({ kind: 'k', payload: { n: 2 }, dedupeKey: 'key-1' })).toBeUndefined();
    const added = await queue.enqueueMany([
      { kind: 'k', payload: {}, dedupeKey: 'key-1' },
      { kind: 'k', payload: {}, dedupeKey: 'key-2' },
      { kind: 'k', payload: {} },
    ]);
    expect(added.map((row) => row.dedupe_key)).toEqual(['key-2', null]);
    const claimed = await queue.claim('a', ['k'], 10, 1_000);
    expect(claimed.map((row) => row.job_id)).toContain(first!.job_id);
    expect(await queue.enqueue({ kind: 'k', payload: {}, dedupeKey: 'key-1' })).toBeUndefined();
    expect(await queue.complete(first!.job_id, 'a', { ok: true })).toBe(true);
    expect(await queue.enqueue({ kind: 'k', payload: {}, dedupeKey: 'key-1' })).toBeDefined();
    expect(JSON.parse((await queue.get(first!.job_id))!.result!)).toEqual({ ok: true });
  });

  it('never hands one job to two concurrent claimers', async () => {
    const store = await backend.open({ poolSize: 6 });
    const queue = new JobQueue(store.db, () => new Date());
    await queue.enqueueMany(Array.from({ length: 200 }, (_, n) => ({ kind: 'k', payload: { n } })));
    const seen = new Map<string, string>();
    await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map(async (owner) => {
        for (;;) {
          const rows = await queue.claim(owner, ['k'], 7, 60_000);
          if (rows.length === 0) return;
          for (const row of rows) {
            expect(seen.has(row.job_id)).toBe(false);
            seen.set(row.job_id, owner);
            expect(row.lease_owner).toBe(owner);
          }
        }
      }),
    );
    expect(seen.size).toBe(200);
    expect(new Set(seen.values()).size).toBeGreaterThan(1);
  });

  it('claims only due jobs of the kinds asked for', async () => {
    const store = await backend.open();
    const clock = movableClock();
    const queue = new JobQueue(store.db, clock);
    await queue.enqueue({ kind: 'later', payload: {}, runAt: new Date(clock().getTime() + 5_000) });
    await queue.enqueue({ kind: 'other', payload: {} });
    expect(await queue.claim('a', ['later'], 10, 1_000)).toEqual([]);
    clock.advance(5_000);
    expect((await queue.claim('a', ['later'], 10, 1_000)).map((row) => row.kind)).toEqual(['later']);
  });

  it('takes a job back from a holder whose lease ran out, and fences the late holder', async () => {
    const store = await backend.open();
    const clock = movableClock();
    const queue = new JobQueue(store.db, clock);
    const job = (await queue.enqueue({ kind: 'k', payload: {} }))!;
    expect(await queue.claim('dead', ['k'], 1, 10_000)).toHaveLength(1);
    expect(await queue.claim('live', ['k'], 1, 10_000)).toHaveLength(0);
    clock.advance(5_000);
    expect(await queue.renew(job.job_id, 'dead', 10_000)).toBe(true);
    clock.advance(10_001);
    const [taken] = await queue.claim('live', ['k'], 1, 10_000);
    expect(taken!.lease_owner).toBe('live');
    expect(Number(taken!.attempts)).toBe(2);
    expect(await queue.renew(job.job_id, 'dead', 10_000)).toBe(false);
    expect(await queue.complete(job.job_id, 'dead', 'late')).toBe(false);
    expect(await queue.complete(job.job_id, 'live', 'first')).toBe(true);
    expect((await queue.get(job.job_id))!).toMatchObject({ state: 'done', result: '"first"', lease_owner: null });
  });

  it('renews the leases of all a holder runs in one call, leaving out the jobs it lost', async () => {
    const store = await backend.open();
    const clock = movableClock();
    const queue = new JobQueue(store.db, clock);
    const jobs = await queue.enqueueMany(Array.from({ length: 4 }, (_, n) => ({ kind: 'k', payload: { n } })));
    const ids = jobs.map((job) => job.job_id);
    const claimed = (await queue.claim('a', ['k'], 3, 10_000)).map((job) => job.job_id);
    expect(claimed).toHaveLength(3);
    expect(await queue.renewMany([], 'a', 10_000)).toEqual([]);
    clock.advance(5_000);
    const held = await queue.renewMany(ids, 'a', 10_000);
    expect(held.map((row) => row.job_id).sort()).toEqual([...claimed].sort());
    expect(held.every((row) => row.attempts === 1)).toBe(true);
    // Renewed: still theirs after the first lease would have run out.
    clock.advance(6_000);
    expect(await queue.claim('b', ['k'], 4, 60_000)).toHaveLength(1);
    // One finished, one lapsed and taken by b, one lapsed and claimed again by a itself (a later claim: attempts 2).
    expect(await queue.complete(claimed[0]!, 'a', null)).toBe(true);
    clock.advance(10_001);
    const [byB] = await queue.claim('b', ['k'], 1, 10_000);
    const [again] = await queue.claim('a', ['k'], 1, 10_000);
    expect(new Set([byB!.job_id, again!.job_id])).toEqual(new Set([claimed[1], claimed[2]]));
    const after = await queue.renewMany(claimed, 'a', 10_000);
    expect(after).toEqual([{ job_id: again!.job_id, attempts: 2 }]);
    expect((await queue.get(byB!.job_id))!.lease_owner).toBe('b');
  });

  it('renews every job a worker runs with one statement per lease third, and aborts a run whose lease is gone', async () => {
    const store = await backend.open();
    const queue = new JobQueue(store.db, () => new Date());
    const calls: number[] = [];
    const renewMany = queue.renewMany.bind(queue);
    queue.renewMany = (ids, owner, leaseMs) => {
      calls.push(ids.length);
      return renewMany(ids, owner, leaseMs);
    };
    const aborted: number[] = [];
    const kinds = new JobKindTable().register<{ n: number }>({
      kind: 'hold',
      run: ({ n }, { signal }) =>
        new Promise((resolve) =>
          signal.addEventListener('abort', () => {
            aborted.push(n);
            resolve(new JobInterrupted('stopped'));
          }),
        ),
    });
    const jobs = await queue.enqueueMany(Array.from({ length: 5 }, (_, n) => ({ kind: 'hold', payload: { n } })));
    const worker = new JobWorker({
      queue,
      kinds,
      replicaId: 'r1',
      clock: () => new Date(),
      pollMs: 10,
      leaseMs: 3_000,
    });
    worker.start();
    try {
      await waitFor(async () => (await queue.list({ states: ['running'] })).length === 5);
      await waitFor(async () => calls.length >= 2);
      // One call for the five held jobs each time, not one per job.
      expect(Math.max(...calls)).toBe(5);
      // Another replica takes job 2 (as after an expiry): its run is told at the next renewal; the rest run on.
      await store.db.updateTable('jobs').set({ lease_owner: 'r2' }).where('job_id', '=', jobs[2]!.job_id).execute();
      await waitFor(async () => aborted.length === 1);
      expect(aborted).toEqual([2]);
      expect(worker.stats.leaseLost).toBe(1);
      expect((await queue.get(jobs[2]!.job_id))!.lease_owner).toBe('r2');
    } finally {
      await worker.stop();
    }
    expect(worker.stats.released).toBe(4);
    expect((await queue.list({ states: ['queued'] })).length).toBe(4);
  });

  it('retries a failed run after a back-off and gives up after max attempts; a release costs no attempt', async () => {
    const store = await backend.open();
    const clock = movableClock();
    const queue = new JobQueue(store.db, clock);
    const job = (await queue.enqueue({ kind: 'k', payload: {}, maxAttempts: 2 }))!;
    let [held] = await queue.claim('a', ['k'], 1, 1_000);
    expect(await queue.release(job.job_id, 'a', new Date(clock().getTime() + 100), 'deferred')).toBe(true);
    expect(Number((await queue.get(job.job_id))!.attempts)).toBe(0);
    clock.advance(100);
    [held] = await queue.claim('a', ['k'], 1, 1_000);
    expect(await queue.fail(held!, 'a', 'boom', { backoff: { baseMs: 1_000, maxMs: 10_000 } })).toBe(true);
    const waiting = (await queue.get(job.job_id))!;
    expect(waiting.state).toBe('queued');
    expect(Date.parse(waiting.run_at) - clock().getTime()).toBeGreaterThanOrEqual(800);
    expect(await queue.claim('a', ['k'], 1, 1_000)).toHaveLength(0);
    clock.advance(1_000);
    [held] = await queue.claim('a', ['k'], 1, 1_000);
    expect(Number(held!.attempts)).toBe(2);
    await queue.fail(held!, 'a', 'boom again');
    expect((await queue.get(job.job_id))!).toMatchObject({ state: 'failed', failure: 'boom again' });
  });

  it('enqueues a tick once however many replicas fire it at once', async () => {
    const store = await backend.open({ poolSize: 4 });
    const queue = new JobQueue(store.db, () => new Date());
    const tick = new Date('2026-12-07T10:00:00.000Z');
    const schedule = { name: 'rotation.due', cron: '0 * * * *', job: { kind: 'tick', payload: {} } };
    const fired = await Promise.all(
      ['r1', 'r2', 'r3', 'r4'].map((replicaId) =>
        new JobScheduler({ queue, clock: () => new Date(), replicaId, schedules: [schedule] }).fire(schedule, tick),
      ),
    );
    expect(fired.filter(Boolean)).toHaveLength(1);
    const jobs = await queue.list({ kind: 'tick' });
    expect(jobs).toHaveLength(1);
    expect(JSON.parse(jobs[0]!.payload)).toEqual({ tick: tick.toISOString() });
    expect(
      await new JobScheduler({ queue, clock: () => new Date(), replicaId: 'r5', schedules: [] }).fire(schedule, tick),
    ).toBe(false);
  });

  it('runs jobs through the worker: results, retries, give-backs and bounded concurrency', async () => {
    const store = await backend.open();
    const queue = new JobQueue(store.db, () => new Date());
    let running = 0;
    let most = 0;
    const failedOnce = new Set<number>();
    const kinds = new JobKindTable().register<{ n: number }>({
      kind: 'square',
      run: async ({ n }) => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 10));
        running -= 1;
        if (n % 5 === 0 && !failedOnce.has(n)) {
          failedOnce.add(n);
          throw new Error(`first run of ${n} fails`);
        }
        if (n === 7 && !failedOnce.has(7)) {
          failedOnce.add(7);
          return new RetryJobAt(new Date(Date.now() + 50), 'deferred');
        }
        return n * n;
      },
    });
    await queue.enqueueMany(Array.from({ length: 20 }, (_, n) => ({ kind: 'square', payload: { n } })));
    const worker = new JobWorker({
      queue,
      kinds,
      replicaId: 'r1',
      clock: () => new Date(),
      concurrency: 3,
      pollMs: 20,
      backoff: { baseMs: 30, maxMs: 100 },
    });
    worker.start();
    await waitFor(async () => (await queue.list({ states: ['done'] })).length === 20);
    await worker.stop();
    expect(most).toBeLessThanOrEqual(3);
    const done = await queue.list({ states: ['done'] });
    expect(done.map((row) => JSON.parse(row.result!)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, n) => n * n).sort((a, b) => a - b),
    );
    expect(worker.stats).toMatchObject({ done: 20, retried: 5, failed: 0, leaseLost: 0 });
    expect(Number(done.find((row) => JSON.parse(row.payload).n === 5)!.attempts)).toBe(2);
    expect(Number(done.find((row) => JSON.parse(row.payload).n === 7)!.attempts)).toBe(1);
  });

  it('re-runs on another worker a job whose holder died (its lease expired, never renewed)', async () => {
    const store = await backend.open();
    const clock = movableClock();
    const queue = new JobQueue(store.db, clock);
    const job = (await queue.enqueue({ kind: 'work', payload: { n: 3 } }))!;
    // The dead replica claimed it and then was SIGKILLed: no renewal, no release.
    expect(await queue.claim('dead-replica', ['work'], 1, 30_000)).toHaveLength(1);
    const ranBy: string[] = [];
    const kinds = new JobKindTable().register<{ n: number }>({
      kind: 'work',
      run: async ({ n }, { replicaId }) => {
        ranBy.push(replicaId);
        return n * 2;
      },
    });
    const worker = new JobWorker({ queue, kinds, replicaId: 'live-replica', clock, pollMs: 20, leaseMs: 30_000 });
    worker.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 150));
      // Still within the dead holder's lease: nobody takes it.
      expect(ranBy).toEqual([]);
      expect((await queue.get(job.job_id))!.lease_owner).toBe('dead-replica');
      clock.advance(30_001);
      await waitFor(async () => (await queue.get(job.job_id))!.state === 'done');
    } finally {
      await worker.stop();
    }
    expect(ranBy).toEqual(['live-replica']);
    const done = (await queue.get(job.job_id))!;
    expect(JSON.parse(done.result!)).toBe(6);
    expect(Number(done.attempts)).toBe(2);
  });

  it('gives a job back on shutdown, for another replica to take', async () => {
    const store = await backend.open();
    const queue = new JobQueue(store.db, () => new Date());
    const kinds = new JobKindTable().register({
      kind: 'slow',
      // The signal may be aborted before the run starts: the row reads `running` as soon as the claim commits, and
      // the test stops the worker while the claim's answer may still be on its way.
      run: (_payload, { signal }) =>
        new Promise((resolve) => {
          if (signal.aborted) resolve(new JobInterrupted('shutdown'));
          signal.addEventListener('abort', () => resolve(new JobInterrupted('shutdown')));
        }),
    });
    const job = (await queue.enqueue({ kind: 'slow', payload: {} }))!;
    const worker = new JobWorker({ queue, kinds, replicaId: 'r1', clock: () => new Date(), pollMs: 10 });
    worker.start();
    await waitFor(async () => (await queue.get(job.job_id))!.state === 'running');
    await worker.stop();
    expect((await queue.get(job.job_id))!).toMatchObject({ state: 'queued', lease_owner: null, failure: 'shutdown' });
    expect(await queue.claim('r2', ['slow'], 1, 1_000)).toHaveLength(1);
  });

  it('keeps replicas heartbeats: alive while beating, dead after three missed beats or a clean stop', async () => {
    const store = await backend.open();
    const clock = movableClock();
    const replicas = new ReplicaHeartbeats(store.db, clock, { beatMs: 1_000 });
    await replicas.register({ replicaId: 'r1', url: 'http://127.0.0.1:1', worker: true });
    await replicas.register({ replicaId: 'r2', worker: false });
    await replicas.register({ replicaId: 'r3', worker: true });
    clock.advance(2_500);
    await replicas.beat('r1');
    await replicas.stopped('r3');
    // r2 beat last 2.5 s ago (within three beats), r3 stopped cleanly.
    expect([...(await replicas.aliveIds())].sort()).toEqual(['r1', 'r2']);
    clock.advance(1_000);
    expect([...(await replicas.aliveIds())]).toEqual(['r1']);
    const listed = await replicas.list();
    expect(listed.find((replica) => replica.replicaId === 'r1')).toMatchObject({
      worker: true,
      url: 'http://127.0.0.1:1',
      alive: true,
    });
  });
});

describe('back-off', () => {
  it('doubles the back-off per attempt up to its cap', () => {
    const options = { baseMs: 1_000, maxMs: 8_000 };
    expect(backoffMs(1, options)).toBeLessThanOrEqual(1_000);
    expect(backoffMs(3, options)).toBeGreaterThanOrEqual(3_200);
    expect(backoffMs(10, options)).toBeLessThanOrEqual(8_000);
  });
});
