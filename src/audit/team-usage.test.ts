// Per-team attribution on both engines, from ingested CloudTrail records: a use from a source a team declares counts
// for that team (even on another team's key), a key with one consuming team counts for it, a key with no consumers
// for its owner, a key shared by two teams whose calls no source tells apart stays unattributed with both as
// candidates, and an unregistered key's uses are counted apart.
import { expect, it } from 'vitest';
import type { AuditLogSource } from '../audit-logs/audit-log-input.js';
import { auditLogReaderTable } from '../audit-logs/audit-log-reader-table.js';
import { forEachBackend } from '../db/test-support/test-databases.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { ingestAuditLogs } from './audit-log-ingest.js';
import { AuditUsageStore } from './audit-usage-store.js';
import { attributeUsageToTeams } from './team-usage.js';

const entry = (key_id: string, team: string, providerKeyId: string, extra: Partial<KeyEntry> = {}): KeyEntry =>
  ({
    key_id,
    owner_team: team,
    status: 'active',
    provider_key_id: providerKeyId,
    scope: { provider: 'aws-iam', account_id: 'svc' },
    ...extra,
  }) as KeyEntry;

const ENTRIES = [
  entry('payments-aws-001', 'payments', 'AKIAPAYMENTS00000001', {
    expected_sources: ['10.1.0.0/16'],
    consumed_by: ['payments'],
  }),
  entry('search-aws-001', 'search', 'AKIASEARCH0000000001', { consumed_by: [{ team: 'search', service: 'indexer' }] }),
  entry('data-aws-001', 'data', 'AKIADATA000000000001'),
  entry('platform-aws-001', 'platform', 'AKIAPLATFORM00000001', { consumed_by: ['platform', 'growth'] }),
];

const record = (at: string, key: string, ip: string) =>
  JSON.stringify({
    eventVersion: '1.09',
    eventSource: 's3.amazonaws.com',
    eventName: 'GetObject',
    eventTime: at,
    sourceIPAddress: ip,
    userIdentity: { type: 'IAMUser', accessKeyId: key, arn: 'arn:aws:iam::1:user/svc' },
  });

const TRAIL = [
  record('2026-11-01T10:00:00Z', 'AKIAPAYMENTS00000001', '10.1.2.3'),
  record('2026-11-01T11:00:00Z', 'AKIAPAYMENTS00000001', '10.1.2.3'),
  // payments' own source using platform's shared key: that part of it is payments' use.
  record('2026-11-02T09:00:00Z', 'AKIAPLATFORM00000001', '10.1.9.9'),
  record('2026-11-02T09:01:00Z', 'AKIAPLATFORM00000001', '192.0.2.4'),
  record('2026-11-02T09:02:00Z', 'AKIAPLATFORM00000001', '192.0.2.5'),
  record('2026-11-03T00:00:00Z', 'AKIASEARCH0000000001', '198.51.100.7'),
  record('2026-11-03T00:00:00Z', 'AKIADATA000000000001', '198.51.100.8'),
  record('2026-11-04T00:00:00Z', 'AKIANOBODY0000000001', '203.0.113.1'),
  // Before the window: not counted.
  record('2026-09-01T00:00:00Z', 'AKIADATA000000000001', '198.51.100.8'),
].join('\n');

const source: AuditLogSource = {
  name: 'trail.jsonl',
  async *open() {
    yield Buffer.from(TRAIL);
  },
};

forEachBackend((backend) => {
  it('credits uses to teams by source, sole consumer or owner, and leaves shared keys unattributed', async () => {
    const store = await backend.open();
    const usage = new AuditUsageStore(store.db);
    await ingestAuditLogs({
      sources: [source],
      readers: [auditLogReaderTable.cloudtrail],
      entries: ENTRIES,
      store: usage,
    });
    const report = attributeUsageToTeams(await usage.usesByKeyAndTeam('2026-10-01'), ENTRIES);
    expect(report.teams).toEqual([
      {
        team: 'payments',
        uses: 3,
        lastUse: '2026-11-02T09:00:00.000Z',
        byBasis: { source: 3, consumer: 0, owner: 0 },
        keys: [
          { key_id: 'payments-aws-001', uses: 2, basis: ['source'] },
          { key_id: 'platform-aws-001', uses: 1, basis: ['source'] },
        ],
      },
      {
        team: 'data',
        uses: 1,
        lastUse: '2026-11-03T00:00:00.000Z',
        byBasis: { source: 0, consumer: 0, owner: 1 },
        keys: [{ key_id: 'data-aws-001', uses: 1, basis: ['owner'] }],
      },
      {
        team: 'search',
        uses: 1,
        lastUse: '2026-11-03T00:00:00.000Z',
        byBasis: { source: 0, consumer: 1, owner: 0 },
        keys: [{ key_id: 'search-aws-001', uses: 1, basis: ['consumer'] }],
      },
    ]);
    expect(report.unattributed).toEqual([{ key_id: 'platform-aws-001', uses: 2, candidates: ['growth', 'platform'] }]);
    expect(report.unregisteredUses).toBe(1);
    // Without a window, the September use is in data's total too.
    const all = attributeUsageToTeams(await usage.usesByKeyAndTeam(), ENTRIES);
    expect(all.teams.find((team) => team.team === 'data')?.uses).toBe(2);
    await store.close();
  });
});
