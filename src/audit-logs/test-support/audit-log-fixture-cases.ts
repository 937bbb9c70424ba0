// Runs a reader over each fixture folder beside it (`fixtures/<case>/input.json` in, `expected.json` out), as
// secretlint's rules own their snapshots: adding a case is adding a folder. Each case is read three ways — plain,
// gzip, and in 7-byte chunks (records cut across chunk boundaries) — and must give the same items.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect, it } from 'vitest';
import type { AuditLogSource } from '../audit-log-input.js';
import { auditLogSources } from '../audit-log-input.js';
import type { AuditLogReader } from '../audit-log-reader.js';
import type { AuditLogItem } from '../audit-log-record.js';
import { readAuditLogs } from '../read-audit-logs.js';

export async function collect(items: AsyncIterable<AuditLogItem>): Promise<AuditLogItem[]> {
  const out: AuditLogItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** A source that yields `bytes` in pieces of `size` bytes. */
export function chunkedSource(name: string, bytes: Buffer, size: number): AuditLogSource {
  return {
    name,
    async *open() {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    },
  };
}

export function describeFixtureCases(fixturesDir: string, readerFor: (caseDir: string) => AuditLogReader): void {
  for (const name of readdirSync(fixturesDir, { withFileTypes: true })) {
    if (!name.isDirectory()) continue;
    const caseDir = join(fixturesDir, name.name);
    it(`reads ${name.name} as documented`, async () => {
      const reader = readerFor(caseDir);
      const input = readFileSync(join(caseDir, 'input.json'));
      const expected = JSON.parse(readFileSync(join(caseDir, 'expected.json'), 'utf8')) as AuditLogItem[];
      const scratch = mkdtempSync(join(tmpdir(), 'keyledger-audit-fixture-'));
      const gz = join(scratch, 'input.json.gz');
      writeFileSync(gz, gzipSync(input));
      const plain = await collect(
        readAuditLogs(await auditLogSources([join(caseDir, 'input.json')]), { readers: [reader] }),
      );
      const gzipped = await collect(readAuditLogs(await auditLogSources([gz]), { readers: [reader] }));
      const chunked = await collect(readAuditLogs([chunkedSource('chunks', input, 7)], { readers: [reader] }));
      expect(plain).toEqual(expected);
      expect(gzipped).toEqual(expected);
      expect(chunked).toEqual(expected);
    });
  }
}
