// The usage store's read-backs on both engines: the providers with any usage (a loose index scan, which must find
// every provider however the rows interleave, and none in an empty store) and each key's last use (read from the
// covering index of migration 0023).
import { describe, expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import type { UsageRow } from './audit-log-enrichment.js';
import { AuditUsageStore } from './audit-usage-store.js';

const row = (provider: string, credential: string, day: string, keyId: string | null, lastAt: string): UsageRow => ({
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
  });
});
