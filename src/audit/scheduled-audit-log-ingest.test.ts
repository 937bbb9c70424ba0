// The scheduled audit-log ingest on both engines: two replicas' schedulers fire the same tick and two workers poll
// the queue, yet the configured folder is read once and every record counted once; a later tick counts only a new
// file; a run that dies before its commit leaves nothing, and the run after it counts the file once; a file still
// being written is left for a later tick, and one changed after it was counted is not read again.
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { auditLogReaderTable } from '../audit-logs/audit-log-reader-table.js';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { JobKindTable } from '../jobs/job-kind.js';
import { JobQueue } from '../jobs/job-queue.js';
import { JobScheduler } from '../jobs/job-schedule.js';
import { JobWorker } from '../jobs/job-worker.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { AuditLogFiles } from './audit-log-files.js';
import { AuditUsageStore } from './audit-usage-store.js';
import { ingestNewAuditLogFiles, type ScheduledAuditLogIngestInput } from './scheduled-audit-log-ingest.js';

const ENTRIES = [
  {
    key_id: 'payments-aws-001',
    owner_team: 'payments',
    owner_individual: 'payments-lead@example.com',
    status: 'active',
    provider_key_id: 'AKIAPAYMENTS00000001',
    scope: { provider: 'aws-iam', account_id: 'svc' },
  } as KeyEntry,
];

/** `count` CloudTrail records by the payments key on one day. */
function trail(count: number, day: string): string {
  return Array.from({ length: count }, (_, n) =>
    JSON.stringify({
      eventVersion: '1.08',
      eventSource: 'sts.amazonaws.com',
      eventName: 'GetCallerIdentity',
      eventTime: `${day}T10:${String(n % 60).padStart(2, '0')}:00Z`,
      sourceIPAddress: '10.1.2.3',
      userIdentity: { type: 'IAMUser', accessKeyId: 'AKIAPAYMENTS00000001', arn: 'arn:aws:iam::1:user/payments' },
    }),
  ).join('\n');
}

const NOW = Date.parse('2026-12-07T10:00:00.000Z');
const clock = () => new Date(NOW);

async function writeSettled(path: string, text: string, ageMs = 3_600_000): Promise<void> {
  await writeFile(path, text);
  const at = new Date(NOW - ageMs);
  await utimes(path, at, at);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

forEachBackend((backend) => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'jobs-bg-audit-logs-'));
  });
  afterEach(() => rm(folder, { recursive: true, force: true }));

  const usesOf = async (store: AuditUsageStore) =>
    (await store.usageOf('payments-aws-001')).reduce((sum, row) => sum + Number(row.count), 0);

  function ingestInput(usage: AuditUsageStore, files: AuditLogFiles): ScheduledAuditLogIngestInput {
    return {
      paths: [folder],
      readers: [auditLogReaderTable.cloudtrail],
      loadEntries: async () => ENTRIES,
      store: usage,
      files,
      clock,
      threads: 0,
    };
  }

  it('runs a scheduled ingest once per tick with two replicas, counting each record once', async () => {
    const store = await backend.open({ poolSize: 4 });
    const queue = new JobQueue(store.db, clock);
    const usage = new AuditUsageStore(store.db);
    const files = new AuditLogFiles(store.db);
    await writeSettled(join(folder, 'a.jsonl'), trail(30, '2026-11-01'));
    let runs = 0;
    const kinds = new JobKindTable().register({
      kind: 'audit-log.ingest',
      run: async () => {
        runs += 1;
        return ingestNewAuditLogFiles(ingestInput(usage, files));
      },
    });
    const schedule = { name: 'audit-log.ingest', cron: '*/5 * * * *', job: { kind: 'audit-log.ingest', payload: {} } };
    const workers = ['r1', 'r2'].map(
      (replicaId) => new JobWorker({ queue, kinds, replicaId, clock: () => new Date(), pollMs: 20 }),
    );
    for (const worker of workers) worker.start();
    try {
      const fire = (tick: string) =>
        Promise.all(
          ['r1', 'r2'].map((replicaId) =>
            new JobScheduler({ queue, clock, replicaId, schedules: [schedule] }).fire(schedule, new Date(tick)),
          ),
        );
      expect((await fire('2026-12-07T10:00:00.000Z')).filter(Boolean)).toHaveLength(1);
      await waitFor(async () => (await queue.list({ kind: 'audit-log.ingest', states: ['done'] })).length === 1);
      expect(runs).toBe(1);
      expect(await usesOf(usage)).toBe(30);
      const [first] = await queue.list({ kind: 'audit-log.ingest', states: ['done'] });
      expect(JSON.parse(first!.result!)).toMatchObject({ read: 1, records: 30, alreadyCounted: 0 });

      // The next tick: a new file is counted, the old one is not read again.
      await writeSettled(join(folder, 'b.jsonl'), trail(12, '2026-11-02'));
      expect((await fire('2026-12-07T10:05:00.000Z')).filter(Boolean)).toHaveLength(1);
      await waitFor(async () => (await queue.list({ kind: 'audit-log.ingest', states: ['done'] })).length === 2);
      expect(runs).toBe(2);
      expect(await usesOf(usage)).toBe(42);
      const results = (await queue.list({ kind: 'audit-log.ingest', states: ['done'] })).map((job) =>
        JSON.parse(job.result!),
      );
      expect(results).toContainEqual(expect.objectContaining({ read: 1, records: 12, alreadyCounted: 1 }));
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
    }
  });

  it('counts a file once when the run before died before its commit, and leaves unsettled or changed files', async () => {
    const store = await backend.open();
    const usage = new AuditUsageStore(store.db);
    const files = new AuditLogFiles(store.db);
    await writeSettled(join(folder, 'a.jsonl'), trail(20, '2026-11-01'));
    // A file written a minute ago may still grow: left for a later tick.
    await writeSettled(join(folder, 'growing.jsonl'), trail(5, '2026-11-03'), 60_000);
    // The run dies inside its commit (the process is killed, the connection cut): the transaction rolls back.
    const dying = new AuditLogFiles(store.db);
    dying.record = async () => {
      throw new Error('connection terminated');
    };
    await expect(ingestNewAuditLogFiles(ingestInput(usage, dying))).rejects.toThrow('connection terminated');
    expect(await usesOf(usage)).toBe(0);

    const retried = await ingestNewAuditLogFiles(ingestInput(usage, files));
    expect(retried).toMatchObject({ read: 1, records: 20, settling: 1, alreadyCounted: 0 });
    expect(await usesOf(usage)).toBe(20);

    // Run again: nothing new. The file changed after it was counted: reported, not read again.
    await writeSettled(join(folder, 'a.jsonl'), trail(25, '2026-11-01'));
    const again = await ingestNewAuditLogFiles(ingestInput(usage, files));
    expect(again).toMatchObject({ read: 0, alreadyCounted: 0, changed: [join(folder, 'a.jsonl')], settling: 1 });
    expect(await usesOf(usage)).toBe(20);
  });

  it('refuses to commit a file another run committed meanwhile (two holders of one job)', async () => {
    const store = await backend.open();
    const usage = new AuditUsageStore(store.db);
    const files = new AuditLogFiles(store.db);
    await writeSettled(join(folder, 'a.jsonl'), trail(10, '2026-11-01'));
    // A paused holder sorted the file as fresh, then another run counted it before the first could commit.
    const late = new AuditLogFiles(store.db);
    late.sort = async (found) => ({ fresh: [...found], counted: [], changed: [] });
    await ingestNewAuditLogFiles(ingestInput(usage, files));
    await expect(ingestNewAuditLogFiles(ingestInput(usage, late))).rejects.toThrow();
    expect(await usesOf(usage)).toBe(10);
  });
});
