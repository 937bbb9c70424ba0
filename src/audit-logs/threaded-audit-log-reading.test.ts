// Reading in worker threads gives the same items, in the same order, as reading in one thread: a folder of mixed
// providers' logs (gzip or not, an envelope file, JSON lines, a truncated and a corrupt file, more files than
// threads so each worker reads several), and the cases that stay in the calling thread (standard input, a mapped
// reader, small inputs).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { auditLogSources } from './audit-log-input.js';
import { auditLogReaderTable, jsonLinesAuditLogReader, parseAuditLogMapping } from './audit-log-reader-table.js';
import type { AuditLogItem } from './audit-log-record.js';
import { readAuditLogBatches } from './read-audit-logs.js';
import { auditLogReadThreads, readAuditLogBatchesThreaded } from './threaded-audit-log-reading.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const fixture = (format: string, name: string) => readFileSync(join(here, format, 'fixtures', name, 'input.json'));
const ALL = Object.values(auditLogReaderTable);

async function flatten(batches: AsyncIterable<AuditLogItem[]>): Promise<AuditLogItem[]> {
  const items: AuditLogItem[] = [];
  for await (const batch of batches) items.push(...batch);
  return items;
}

function trailLines(count: number, from: number): string {
  const lines: string[] = [];
  for (let i = from; i < from + count; i++) {
    lines.push(
      JSON.stringify({
        eventVersion: '1.09',
        eventSource: 's3.amazonaws.com',
        eventName: 'GetObject',
        eventTime: `2026-11-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z`,
        sourceIPAddress: `10.0.${i % 250}.${i % 7}`,
        userIdentity: { type: 'IAMUser', accessKeyId: `AKIA${String(i % 97).padStart(16, '0')}`, arn: `arn:${i % 5}` },
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

describe('readAuditLogBatchesThreaded', () => {
  it('gives the items of a mixed folder in the order one thread reads them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyledger-audit-threaded-'));
    mkdirSync(join(dir, 'nested'));
    writeFileSync(join(dir, 'a-trail.json.gz'), gzipSync(fixture('cloudtrail', 'trail-file-iam-and-ec2')));
    // Large enough to span many 1 MiB chunks, so the worker waits for the reader to take its batches.
    writeFileSync(join(dir, 'b-lake.json.gz'), gzipSync(trailLines(20_000, 0)));
    writeFileSync(join(dir, 'c-github.log'), fixture('github', 'api-page-array'));
    writeFileSync(join(dir, 'd-truncated.json'), trailLines(3, 100).slice(0, -40));
    writeFileSync(join(dir, 'e-corrupt.gz'), Buffer.concat([gzipSync(trailLines(50, 7)).subarray(0, 200)]));
    writeFileSync(join(dir, 'nested', 'f-gcp'), gzipSync(fixture('gcp', 'gcloud-array')));
    writeFileSync(join(dir, 'nested', 'g-lake.json'), trailLines(5_000, 50_000));
    const sources = await auditLogSources([dir]);
    const inline = await flatten(readAuditLogBatches(sources, { readers: ALL }));
    expect(auditLogReadThreads(sources, { readers: ALL, threads: 3 })).toBe(3);
    const threaded = await flatten(readAuditLogBatchesThreaded(sources, { readers: ALL, threads: 3 }));
    expect(threaded.length).toBe(inline.length);
    expect(threaded).toEqual(inline);
    // The corpus does hold records, problems (truncated, corrupt gzip) and the records of every file.
    expect(inline.filter((item) => 'record' in item).length).toBeGreaterThan(25_000);
    expect(inline.filter((item) => 'problem' in item).length).toBeGreaterThanOrEqual(2);
    // Starting worker threads under the test runner loads the reader modules through tsx in each: seconds on a busy
    // machine.
  }, 120_000);

  it('reads in the calling thread what a worker cannot open, and small inputs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyledger-audit-threaded-'));
    writeFileSync(join(dir, 'small.json'), trailLines(10, 0));
    const files = await auditLogSources([join(dir, 'small.json')]);
    const cloudtrail = [auditLogReaderTable.cloudtrail];
    expect(auditLogReadThreads(files, { readers: cloudtrail })).toBe(0);
    expect(auditLogReadThreads(files, { readers: cloudtrail, threads: 2 })).toBe(1);
    const stdin = await auditLogSources(['-'], Readable.from([Buffer.from(trailLines(10, 0))]));
    expect(auditLogReadThreads(stdin, { readers: cloudtrail, threads: 2 })).toBe(0);
    const mapped = jsonLinesAuditLogReader(
      parseAuditLogMapping(
        { provider: 'aws-iam', at: 'eventTime', key_id: 'userIdentity.accessKeyId' },
        'mapping.yaml',
      ),
    );
    expect(auditLogReadThreads(files, { readers: [mapped], threads: 2 })).toBe(0);
    const inline = await flatten(readAuditLogBatches(files, { readers: cloudtrail }));
    expect(await flatten(readAuditLogBatchesThreaded(files, { readers: cloudtrail, threads: 1 }))).toEqual(inline);
    expect(inline).toHaveLength(10);
  }, 60_000);
});
