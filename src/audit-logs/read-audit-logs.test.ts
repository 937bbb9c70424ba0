// Reading whole sources: format detection across a folder of mixed providers' logs, gzip by magic bytes, a corrupt
// gzip or a missing path, and a hostile corpus in which no input may crash the read or leak its text into a problem.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { auditLogSources } from './audit-log-input.js';
import { auditLogReaderTable } from './audit-log-reader-table.js';
import type { AuditLogProblem, AuditLogRecord } from './audit-log-record.js';
import { readAuditLogs } from './read-audit-logs.js';
import { chunkedSource, collect } from './test-support/audit-log-fixture-cases.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const fixture = (format: string, name: string) => readFileSync(join(here, format, 'fixtures', name, 'input.json'));
const ALL = Object.values(auditLogReaderTable);

describe('readAuditLogs', () => {
  it('recognises each provider in a folder of mixed logs (gzip or not, any file name)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyledger-audit-mixed-'));
    mkdirSync(join(dir, 'nested'));
    writeFileSync(join(dir, 'a-trail.json.gz'), gzipSync(fixture('cloudtrail', 'trail-file-iam-and-ec2')));
    writeFileSync(join(dir, 'b-github.log'), fixture('github', 'api-page-array'));
    writeFileSync(join(dir, 'nested', 'c-gcp'), gzipSync(fixture('gcp', 'gcloud-array')));
    writeFileSync(join(dir, 'nested', 'd-entra.json'), fixture('entra', 'graph-signins-page'));
    writeFileSync(join(dir, 'nested', 'e-datadog.json'), fixture('datadog', 'api-page'));
    writeFileSync(join(dir, 'nested', 'f-openai.json'), fixture('openai', 'api-page'));
    writeFileSync(join(dir, 'nested', 'g-gitlab.json'), fixture('gitlab', 'api-json-log'));
    const items = await collect(readAuditLogs(await auditLogSources([dir]), { readers: ALL }));
    const records = items.flatMap((item) => ('record' in item ? [item.record] : []));
    expect(items.filter((item) => 'problem' in item)).toEqual([]);
    const byFormat = new Map<string, number>();
    for (const record of records) byFormat.set(record.format, (byFormat.get(record.format) ?? 0) + 1);
    expect(Object.fromEntries(byFormat)).toEqual({
      cloudtrail: 2,
      github: 2,
      gcp: 2,
      entra: 1,
      datadog: 3,
      openai: 2,
      gitlab: 2,
    });
  });

  it('reads standard input, gzip or plain', async () => {
    const { Readable } = await import('node:stream');
    const gz = gzipSync(fixture('cloudtrail', 'lake-json-lines'));
    const sources = await auditLogSources(['-'], Readable.from([gz.subarray(0, 10), gz.subarray(10)]));
    const items = await collect(readAuditLogs(sources, { readers: ALL }));
    expect(items.map((item) => ('record' in item ? item.record.credential?.providerKeyId : item))).toEqual([
      'AKIAI44QH8DHBEXAMPLE',
      'ASIAIOSFODNN7EXAMPLE',
    ]);
  });

  it('fails before reading when a path does not exist', async () => {
    await expect(auditLogSources(['/nonexistent/trail.json'])).rejects.toMatchObject({ code: 'E_AUDIT_LOG_INPUT' });
  });

  it('reports a corrupt gzip after the records before the damage, and reads the next file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyledger-audit-corrupt-'));
    const lines = Buffer.from(
      Array.from({ length: 2000 }, (_, i) =>
        JSON.stringify({
          eventVersion: '1.08',
          eventSource: 'sts.amazonaws.com',
          eventName: 'GetCallerIdentity',
          eventTime: '2024-01-01T00:00:00Z',
          userIdentity: { accessKeyId: `AKIA${String(i).padStart(16, '0')}` },
          pad: 'x'.repeat(200 + (i % 7)),
        }),
      ).join('\n'),
    );
    const gz = gzipSync(lines);
    writeFileSync(join(dir, 'a.json.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
    writeFileSync(join(dir, 'b.json'), fixture('cloudtrail', 'lake-json-lines'));
    const items = await collect(
      readAuditLogs(await auditLogSources([dir]), { readers: [auditLogReaderTable.cloudtrail] }),
    );
    const problems = items.flatMap((item) => ('problem' in item ? [item.problem] : []));
    const records = items.flatMap((item) => ('record' in item ? [item.record] : []));
    expect(problems.some((problem) => problem.source.endsWith('a.json.gz'))).toBe(true);
    expect(records.filter((record) => record.credential?.providerKeyId?.startsWith('AKIA0')).length).toBeGreaterThan(0);
    expect(records.at(-1)?.credential?.providerKeyId).toBe('ASIAIOSFODNN7EXAMPLE');
  });

  it('names the record and the field that is wrong, and never quotes the input', async () => {
    const canary = 'CANARY-7f3a9c-not-a-key';
    const input = [
      JSON.stringify({
        eventVersion: '1.08',
        eventSource: 's3.amazonaws.com',
        eventName: 'GetObject',
        eventTime: canary,
      }),
      JSON.stringify({ eventVersion: '1.08', eventSource: 's3.amazonaws.com', eventName: 'GetObject', eventTime: {} }),
      `{"eventVersion":"1.08","eventName":"${canary}",,}`,
      '{"unrelated":true}',
    ].join('\n');
    const items = await collect(
      readAuditLogs([chunkedSource('t.json', Buffer.from(input), 5)], { readers: [auditLogReaderTable.cloudtrail] }),
    );
    const problems = items.map((item) => ('problem' in item ? item.problem : undefined)) as AuditLogProblem[];
    expect(problems.map((problem) => [problem.index, problem.line, problem.message])).toEqual([
      [1, 1, 'eventTime missing or not a time'],
      [2, 2, 'eventTime missing or not a time'],
      [3, 3, expect.stringMatching(/^invalid JSON/)],
      [4, 4, 'not a cloudtrail record'],
    ]);
    expect(JSON.stringify(items)).not.toContain(canary);
  });

  it('survives a hostile corpus without throwing', async () => {
    const hostile: Buffer[] = [
      Buffer.from('{"Records":[{"eventVersion":"1.08","eventSource":"x","eventName":'),
      Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22, 0x00, 0x80, 0x0a, 0x7d]),
      Buffer.from(`{"Records":[${'{"a":'.repeat(50000)}1${'}'.repeat(50000)}]}`),
      Buffer.from('{"Records":"not an array"}\n{"Records":[1,[2],"three",{"eventVersion":4}]}'),
      Buffer.from(`[${'{"action":"x","@timestamp":1},'.repeat(1000)}]`),
      Buffer.from('{"protoPayload":{"methodName":{"$ne":1}},"timestamp":[]}\n{"protoPayload":null}'),
      Buffer.from('{"type":"audit","attributes":{"timestamp":"2024-01-01T00:00:00Z","attributes":"nope"}}'),
      Buffer.from('{"__proto__":{"eventVersion":"1.08"},"constructor":{"prototype":{"x":1}}}'),
      Buffer.from(']]]]}}}}{{{{[[[['),
    ];
    for (const bytes of hostile) {
      for (const size of [1, 13, 1 << 16]) {
        const items = await collect(readAuditLogs([chunkedSource('h', bytes, size)], { readers: ALL }));
        for (const item of items) {
          if ('record' in item) expect(typeof (item.record as AuditLogRecord).at).toBe('string');
        }
      }
    }
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
