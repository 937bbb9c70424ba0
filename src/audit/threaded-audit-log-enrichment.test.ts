// An ingest enriched in worker threads stores exactly what one enriched in the calling thread stores, on both
// engines: the usage rows, the anomalies with the detail of their first record in source order (a revoked key's
// first use succeeds in one file and is denied in the next, read by another worker), the anomaly events in the
// same order, the summary with the distinct usage rows (a slot seen in several files and pieces counted once), the
// progress calls and the stolen-key calls. Usage is written in pieces of a few rows, so every piece path is taken.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { auditLogSources } from '../audit-logs/audit-log-input.js';
import { auditLogReaderTable } from '../audit-logs/audit-log-reader-table.js';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { EventLog } from '../events/event-log.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { fixedClock } from '../runtime/clock.js';
import { ingestAuditLogs } from './audit-log-ingest.js';
import { AuditUsageStore } from './audit-usage-store.js';

const here = fileURLToPath(new URL('.', import.meta.url));
/** A reader's documented sample (src/audit-logs/<format>/fixtures/<name>/input.json). */
const fixture = (format: string, name: string) =>
  readFileSync(join(here, '..', 'audit-logs', format, 'fixtures', name, 'input.json'));
const TEAMS = ['payments', 'growth', 'search'];
const entry = (i: number, extra: Partial<KeyEntry> = {}): KeyEntry =>
  ({
    key_id: `${TEAMS[i % 3]}-aws-${i}`,
    owner_team: TEAMS[i % 3],
    owner_individual: 'lead@example.com',
    status: 'active',
    provider_key_id: `AKIA${String(i).padStart(16, '0')}`,
    scope: { provider: 'aws-iam', account_id: 'svc' },
    ...(i % 4 === 0 ? { expected_sources: [`10.${i % 3}.0.0/16`] } : {}),
    ...extra,
  }) as KeyEntry;
const ENTRIES = [...Array.from({ length: 30 }, (_, i) => entry(i)), entry(99, { status: 'revoked' })];

/** File `f`: calls of registered and unregistered keys from the three teams' ranges and elsewhere. */
function trailFile(f: number): string {
  const lines: string[] = [];
  const line = (at: string, key: string, ip: string, error?: string) =>
    lines.push(
      JSON.stringify({
        eventVersion: '1.09',
        eventSource: 's3.amazonaws.com',
        eventName: 'GetObject',
        eventTime: at,
        sourceIPAddress: ip,
        userIdentity: { type: 'IAMUser', accessKeyId: key, arn: `arn:aws:iam::1:user/u${f % 2}` },
        ...(error ? { errorCode: error } : {}),
      }),
    );
  for (let r = 0; r < 60; r++) {
    const i = (r * 7 + f * 3) % 34; // 30..33: unregistered
    const day = String(1 + ((r + f) % 5)).padStart(2, '0');
    line(
      `2026-11-${day}T${String(r % 24).padStart(2, '0')}:00:00Z`,
      `AKIA${String(i).padStart(16, '0')}`,
      `10.${r % 4}.0.${r % 3}`,
    );
  }
  // One slot again and again, in every file: its usage row is counted once, whichever pieces it was written in.
  for (let r = 0; r < 3; r++) line(`2026-11-01T0${f}:00:00Z`, `AKIA${String(1).padStart(16, '0')}`, '10.1.0.1');
  // The revoked key, from the same address in every file: allowed in file 0, denied in the later ones. The anomaly's
  // detail names the outcome of the first call in source order.
  line(
    `2026-11-0${1 + (f % 5)}T05:00:00Z`,
    `AKIA${String(99).padStart(16, '0')}`,
    '203.0.113.9',
    f === 0 ? undefined : 'AccessDenied',
  );
  lines.push('{"eventVersion": "1.09", "eventSource": "s3.amazonaws.com", "eventName": "GetObject"}');
  return `${lines.join('\n')}\n`;
}

forEachBackend((backend) => {
  describe('ingestAuditLogs in worker threads', () => {
    it('stores what an ingest in the calling thread stores, in pieces or at once', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'keyledger-threaded-enrichment-'));
      for (let f = 0; f < 5; f++) {
        const name = join(dir, `trail-${f}.json`);
        if (f % 2) writeFileSync(`${name}.gz`, gzipSync(trailFile(f)));
        else writeFileSync(name, trailFile(f));
      }
      const sources = await auditLogSources([dir]);
      const ingest = async (threads: number, usageRowsPerPiece?: number) => {
        const store = await backend.open();
        const events = new EventLog(store.db, fixedClock('2026-11-10T00:00:00Z'));
        const usageStore = new AuditUsageStore(store.db);
        const progress: number[] = [];
        const unauthorised: string[] = [];
        const result = await ingestAuditLogs({
          sources,
          readers: [auditLogReaderTable.cloudtrail],
          entries: ENTRIES,
          store: usageStore,
          events,
          threads,
          ...(usageRowsPerPiece ? { usageRowsPerPiece } : {}),
          progressEvery: 50,
          onProgress: (records) => progress.push(records),
          onUnauthorisedUse: (keyId) => unauthorised.push(keyId),
        });
        const usage =
          await sql`select * from audit_usage order by provider, credential, day, source, principal, outcome`.execute(
            store.db,
          );
        const anomalies = await sql`select * from audit_anomalies order by kind, provider, credential, source`.execute(
          store.db,
        );
        const logged = (await events.list({ limit: 10_000 })).map((event) => [event.type, event.keyId, event.data]);
        return { result, progress, unauthorised, usage: usage.rows, anomalies: anomalies.rows, logged };
      };
      const inThread = await ingest(0);
      // The corpus holds what the comparison is about.
      expect(inThread.result.problems).toBe(5);
      expect(inThread.result.usageRows).toBeLessThan(inThread.result.records);
      expect(inThread.result.anomalies['shared-across-teams']).toBeGreaterThan(0);
      expect(inThread.result.anomalies['unexpected-source']).toBeGreaterThan(0);
      expect(inThread.anomalies.find((row) => (row as { kind: string }).kind === 'revoked-key-used')).toMatchObject({
        count: 5,
        detail: expect.stringContaining('(success)'),
      });
      expect(inThread.unauthorised).toHaveLength(5);
      expect(inThread.progress).toEqual([50, 100, 150, 200, 250, 300]);
      expect(inThread.result.records).toBe(320);
      for (const [threads, piece] of [
        [0, 7],
        [1, 7],
        [3, 7],
        [2, undefined],
      ] as const) {
        const other = await ingest(threads, piece);
        expect({ threads, piece, ...other }).toEqual({ threads, piece, ...inThread });
      }
    }, 120_000);

    it('reads a folder of every format, with a truncated and a corrupt file, as one thread does', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'keyledger-threaded-mixed-'));
      mkdirSync(join(dir, 'nested'));
      writeFileSync(join(dir, 'a-trail.json.gz'), gzipSync(fixture('cloudtrail', 'trail-file-iam-and-ec2')));
      writeFileSync(join(dir, 'b-lake.json.gz'), gzipSync(trailFile(1).repeat(400)));
      writeFileSync(join(dir, 'c-github.log'), fixture('github', 'api-page-array'));
      writeFileSync(join(dir, 'd-truncated.json'), trailFile(2).slice(0, -60));
      writeFileSync(join(dir, 'e-corrupt.gz'), gzipSync(trailFile(3)).subarray(0, 200));
      writeFileSync(join(dir, 'nested', 'f-gcp'), gzipSync(fixture('gcp', 'gcloud-array')));
      writeFileSync(join(dir, 'nested', 'g-lake.json'), trailFile(4).repeat(100));
      const sources = await auditLogSources([dir]);
      const readers = Object.values(auditLogReaderTable);
      const ingest = async (threads: number) => {
        const store = await backend.open();
        const result = await ingestAuditLogs({
          sources,
          readers,
          entries: ENTRIES,
          store: new AuditUsageStore(store.db),
          events: new EventLog(store.db, fixedClock('2026-11-10T00:00:00Z')),
          threads,
        });
        const usage =
          await sql`select * from audit_usage order by provider, credential, day, source, principal, outcome`.execute(
            store.db,
          );
        return { result, usage: usage.rows };
      };
      const inThread = await ingest(0);
      // The corpus holds records of several providers and problems (the truncated file, the corrupt gzip).
      expect(inThread.result.records).toBeGreaterThan(25_000);
      expect(inThread.result.problems).toBeGreaterThanOrEqual(2);
      expect(new Set(inThread.usage.map((row) => (row as { provider: string }).provider)).size).toBeGreaterThan(1);
      expect(await ingest(3)).toEqual(inThread);
    }, 120_000);
  });
});
