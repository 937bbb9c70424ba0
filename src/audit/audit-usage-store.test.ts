// The usage store's read-backs on both engines: the providers with any usage (a loose index scan, which must find
// every provider however the rows interleave, and none in an empty store) and each key's last use (read from the
// covering index of migrations 0023 and 0024), counting only uses made while a key was its entry's current key.
import { describe, expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import type { UsageRow } from './audit-log-enrichment.js';
import { AuditUsageStore } from './audit-usage-store.js';

const row = (
  provider: string,
  credential: string,
  day: string,
  keyId: string | null,
  lastAt: string,
  lastCurrentAt: string | null = keyId === null ? null : lastAt,
): UsageRow => ({
  provider,
  credential,
  day,
  source: '10.0.0.1',
  principal: '',
  outcome: 'success',
  key_id: keyId,
  source_team: null,
  count: 1,
  first_at: `${day}T00:00:00.000Z`,
  last_at: lastAt,
  last_current_at: lastCurrentAt,
});

forEachBackend((backend) => {
  describe('AuditUsageStore', () => {
    it('names every provider with usage and each key last use', async () => {
      const store = await backend.open();
      const usage = new AuditUsageStore(store.db);
      expect(await usage.providersWithUsage()).toEqual(new Set());
      expect(await usage.lastUseByKey()).toEqual(new Map());
      await usage.merge(
        [
          row('aws-iam', 'AKIA1', '2026-11-01', 'k1', '2026-11-01T10:00:00.000Z'),
          row('aws-iam', 'AKIA1', '2026-11-03', 'k1', '2026-11-03T08:00:00.000Z'),
          row('aws-iam', 'AKIA2', '2026-11-02', null, '2026-11-02T10:00:00.000Z'),
          row('github', 'sha256:abc', '2026-11-02', 'k2', '2026-11-02T23:59:59.000Z'),
          row('openai', 'key_x', '2026-10-30', 'k1', '2026-10-30T00:00:00.000Z'),
          row('datadog', 'dd1', '2026-11-04', 'k3', '2026-11-04T01:00:00.000Z'),
        ],
        [],
      );
      expect(await usage.providersWithUsage()).toEqual(new Set(['aws-iam', 'datadog', 'github', 'openai']));
      expect(await usage.lastUseByKey()).toEqual(
        new Map([
          ['k1', '2026-11-03T08:00:00.000Z'],
          ['k2', '2026-11-02T23:59:59.000Z'],
          ['k3', '2026-11-04T01:00:00.000Z'],
        ]),
      );
    });

    it("counts only uses made while a key was its entry's current key as the entry's last use", async () => {
      const store = await backend.open();
      const usage = new AuditUsageStore(store.db);
      // k1's current key last used on the 3rd; its rotated-out key used later, on the 5th (a stolen-key signal, so
      // no current use in that row); k4 used only after its revocation.
      await usage.merge(
        [
          row('aws-iam', 'AKIANEW', '2026-11-03', 'k1', '2026-11-03T08:00:00.000Z'),
          row('aws-iam', 'AKIAOLD', '2026-11-05', 'k1', '2026-11-05T08:00:00.000Z', null),
          row('aws-iam', 'AKIAREVOKED', '2026-11-05', 'k4', '2026-11-05T09:00:00.000Z', null),
        ],
        [],
      );
      expect(await usage.lastUseByKey()).toEqual(new Map([['k1', '2026-11-03T08:00:00.000Z']]));
      // Merged again into the same rows: a row's current use is kept when the new one is absent or older, and moves
      // when it is newer.
      await usage.merge(
        [
          row('aws-iam', 'AKIANEW', '2026-11-03', 'k1', '2026-11-03T09:00:00.000Z', '2026-11-03T07:00:00.000Z'),
          row('aws-iam', 'AKIAOLD', '2026-11-05', 'k1', '2026-11-05T10:00:00.000Z', null),
          row('aws-iam', 'AKIAREVOKED', '2026-11-05', 'k4', '2026-11-05T01:00:00.000Z'),
        ],
        [],
      );
      expect(await usage.lastUseByKey()).toEqual(
        new Map([
          ['k1', '2026-11-03T08:00:00.000Z'],
          ['k4', '2026-11-05T01:00:00.000Z'],
        ]),
      );
      const rows = await usage.usageOf('k1');
      expect(rows.map((r) => [r.credential, r.last_at, r.last_current_at])).toEqual([
        ['AKIAOLD', '2026-11-05T10:00:00.000Z', null],
        ['AKIANEW', '2026-11-03T09:00:00.000Z', '2026-11-03T08:00:00.000Z'],
      ]);
    });
  });
});
