// How many worker threads an input is read with: none for what a worker cannot open (standard input, a mapped
// reader) or small inputs; for large ones one fewer than the cores, at most one per file. That threaded reading
// gives what one thread gives is src/audit/threaded-audit-log-enrichment.test.ts's.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { auditLogSources } from './audit-log-input.js';
import { auditLogReaderTable, jsonLinesAuditLogReader, parseAuditLogMapping } from './audit-log-reader-table.js';
import { auditLogReadThreads } from './threaded-audit-log-reading.js';

const ALL = Object.values(auditLogReaderTable);

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

describe('auditLogReadThreads', () => {
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
  });

  it('reads inputs of 4 MB and more in worker threads, one fewer than the cores, at most one per file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyledger-audit-threaded-'));
    for (let f = 0; f < 3; f++) writeFileSync(join(dir, `lake-${f}.json`), trailLines(8_000, f * 8_000));
    const files = await auditLogSources([dir]);
    expect(files.reduce((sum, source) => sum + source.file!.bytes, 0)).toBeGreaterThan(4 * 1024 * 1024);
    const threads = auditLogReadThreads(files, { readers: ALL });
    expect(threads).toBe(Math.min(3, 4, Math.max(1, availableParallelism() - 1)));
    expect(auditLogReadThreads(files, { readers: ALL, threads: 9 })).toBe(3);
  });
});
