// Ingest end to end on both engines: CloudTrail records joined to registry entries, usage aggregated, and each
// anomaly of Step 9 found once — an unregistered key, a use outside expected_sources, a key used by another team's
// service, a revoked key used after its revocation (not before), a rotated-out key used after its rotation — with
// one event per new anomaly and none again when the same logs are ingested twice; a stolen key's use is not its
// entry's last use.
import { describe, expect, it } from 'vitest';
import type { AuditLogSource } from '../audit-logs/audit-log-input.js';
import { auditLogReaderTable } from '../audit-logs/audit-log-reader-table.js';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { EventLog } from '../events/event-log.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { fixedClock } from '../runtime/clock.js';
import { ingestAuditLogs } from './audit-log-ingest.js';
import { AuditUsageStore } from './audit-usage-store.js';

const entry = (key_id: string, team: string, providerKeyId: string, extra: Partial<KeyEntry> = {}): KeyEntry =>
  ({
    key_id,
    owner_team: team,
    owner_individual: `${team}-lead@example.com`,
    status: 'active',
    provider_key_id: providerKeyId,
    scope: { provider: 'aws-iam', account_id: 'svc' },
    ...extra,
  }) as KeyEntry;

const ENTRIES: KeyEntry[] = [
  entry('payments-aws-001', 'payments', 'AKIAPAYMENTS00000001', { expected_sources: ['10.0.0.0/8'] }),
  entry('growth-aws-001', 'growth', 'AKIAGROWTH0000000001', { expected_sources: ['192.0.2.0/24'] }),
  entry('legacy-aws-001', 'payments', 'AKIALEGACY0000000001', { status: 'revoked' }),
  entry('search-aws-001', 'search', 'AKIASEARCHNEW0000001'),
];

const trail = (records: Array<[string, string, string, string?]>) =>
  records
    .map(([at, key, ip, error]) =>
      JSON.stringify({
        eventVersion: '1.08',
        eventSource: 'sts.amazonaws.com',
        eventName: 'GetCallerIdentity',
        eventTime: at,
        sourceIPAddress: ip,
        userIdentity: {
          type: 'IAMUser',
          accessKeyId: key,
          arn: `arn:aws:iam::1:user/${key.slice(4, 10).toLowerCase()}`,
        },
        ...(error ? { errorCode: error } : {}),
      }),
    )
    .join('\n');

const RECORDS = trail([
  ['2026-11-01T10:00:00Z', 'AKIAPAYMENTS00000001', '10.1.2.3'],
  ['2026-11-01T11:00:00Z', 'AKIAPAYMENTS00000001', '10.1.2.3'],
  ['2026-11-02T09:00:00Z', 'AKIAPAYMENTS00000001', '192.0.2.77'],
  ['2026-11-02T09:30:00Z', 'AKIAUNKNOWN000000001', '198.51.100.1'],
  ['2026-11-02T09:31:00Z', 'ASIATEMPORARY0000001', '10.9.9.9'],
  ['2026-10-01T00:00:00Z', 'AKIALEGACY0000000001', '10.1.1.1'],
  ['2026-11-03T00:00:00Z', 'AKIALEGACY0000000001', '203.0.113.66', 'AccessDenied'],
  ['2026-11-03T01:00:00Z', 'AKIASEARCHOLD0000001', '203.0.113.67'],
  ['2026-10-20T01:00:00Z', 'AKIASEARCHOLD0000001', '203.0.113.5'],
]);

function source(text: string): AuditLogSource {
  return {
    name: 'trail.jsonl',
    async *open() {
      yield Buffer.from(text);
    },
  };
}

forEachBackend((backend) => {
  describe('ingestAuditLogs', () => {
    it('joins records to entries, aggregates usage and finds each anomaly once', async () => {
      const store = await backend.open();
      const clock = fixedClock('2026-10-15T00:00:00Z');
      const events = new EventLog(store.db, clock);
      await events.append({ type: 'revoked', actor: 'ann@example.com', keyId: 'legacy-aws-001' });
      clock.set('2026-11-10T00:00:00Z');
      await store.db
        .insertInto('rotation_journal')
        .values({
          rotation_id: 'r1',
          key_id: 'search-aws-001',
          provider: 'aws-iam',
          account: 'svc',
          trigger: 'schedule',
          state: 'done',
          store: 'default',
          path: 'search/aws',
          old_provider_key_id: 'AKIASEARCHOLD0000001',
          new_key_name: 'search-aws-001.rot-r1',
          new_provider_key_id: 'AKIASEARCHNEW0000001',
          new_version_id: 'v2',
          fingerprint: null,
          failure: null,
          rollback_reason: null,
          attempts: 0,
          lease_owner: null,
          lease_expires_at: null,
          not_before: null,
          state_entered_at: '2026-10-25T00:00:00.000Z',
          created_at: '2026-10-25T00:00:00.000Z',
          updated_at: '2026-10-25T00:00:00.000Z',
        })
        .execute();
      const usageStore = new AuditUsageStore(store.db);
      const unauthorised: string[] = [];
      const ingest = () =>
        ingestAuditLogs({
          sources: [source(RECORDS)],
          readers: [auditLogReaderTable.cloudtrail],
          entries: ENTRIES,
          store: usageStore,
          events,
          onUnauthorisedUse: (keyId) => unauthorised.push(keyId),
        });

      const first = await ingest();
      expect(first).toMatchObject({ records: 9, matched: 7, unregistered: 1, withoutKey: 1, keysSeen: 3, problems: 0 });
      expect(first.anomalies).toEqual({
        'unregistered-key': 1,
        'unexpected-source': 1,
        'revoked-key-used': 1,
        'rotated-out-key-used': 1,
        'shared-across-teams': 1,
      });
      const anomalies = await usageStore.anomaliesOf();
      expect(anomalies.map((row) => [row.kind, row.key_id, row.source]).sort()).toEqual(
        [
          ['revoked-key-used', 'legacy-aws-001', '203.0.113.66'],
          ['rotated-out-key-used', 'search-aws-001', '203.0.113.67'],
          ['shared-across-teams', 'payments-aws-001', ''],
          ['unexpected-source', 'payments-aws-001', '192.0.2.77'],
          ['unregistered-key', null, '198.51.100.1'],
        ].sort(),
      );
      expect(anomalies.find((row) => row.kind === 'shared-across-teams')?.detail).toMatch(/growth, payments/);
      expect(unauthorised.sort()).toEqual(['legacy-aws-001', 'search-aws-001']);

      const usage = await usageStore.usageOf('payments-aws-001');
      expect(usage.map((row) => [row.day, row.source, row.count, row.source_team])).toEqual([
        ['2026-11-02', '192.0.2.77', 1, 'growth'],
        ['2026-11-01', '10.1.2.3', 2, 'payments'],
      ]);
      const lastUse = await usageStore.lastUseByKey();
      expect(lastUse.get('payments-aws-001')).toBe('2026-11-02T09:00:00.000Z');
      // A stolen key's use is not its entry's: the last use is the latest made while the key was current (the old
      // key's use before the rotation, the revoked key's before its revocation), not the 3 November signals.
      expect(lastUse.get('search-aws-001')).toBe('2026-10-20T01:00:00.000Z');
      expect(lastUse.get('legacy-aws-001')).toBe('2026-10-01T00:00:00.000Z');
      const logged = await events.list({ type: 'audit.anomaly' });
      expect(logged).toHaveLength(5);

      // The same logs again: counts add up, no anomaly is new, no event is logged twice.
      const second = await ingest();
      expect(second.newAnomalies).toEqual([]);
      expect(await events.list({ type: 'audit.anomaly' })).toHaveLength(5);
      expect((await usageStore.usageOf('payments-aws-001')).find((row) => row.day === '2026-11-01')?.count).toBe(4);
      expect(await usageStore.lastUseByKey()).toEqual(lastUse);
    });

    it("calls a key shared only when two teams' services use it, a thief's call and an ownerless entry's aside", async () => {
      const store = await backend.open();
      const events = new EventLog(store.db, fixedClock('2026-11-10T00:00:00Z'));
      const usageStore = new AuditUsageStore(store.db);
      const result = await ingestAuditLogs({
        sources: [
          source(
            trail([
              // The revoked key, called from growth's declared range: a stolen use, not growth consuming the key.
              ['2026-11-03T00:00:00Z', 'AKIALEGACY0000000001', '192.0.2.10', 'AccessDenied'],
              // An entry without an owner team (no clear owner), called from payments' range only: one team.
              ['2026-11-03T01:00:00Z', 'AKIAORPHAN0000000001', '10.4.4.4'],
            ]),
          ),
        ],
        readers: [auditLogReaderTable.cloudtrail],
        entries: [
          ...ENTRIES,
          { ...entry('orphan-aws-001', 'payments', 'AKIAORPHAN0000000001'), owner_team: undefined } as KeyEntry,
        ],
        store: usageStore,
        events,
      });
      expect(result.anomalies['shared-across-teams']).toBe(0);
      expect(result.anomalies['revoked-key-used']).toBe(1);
      // The usage rows still say which team's range each call came from.
      expect((await usageStore.usageOf('orphan-aws-001')).map((row) => row.source_team)).toEqual(['payments']);
    });
  });
});
