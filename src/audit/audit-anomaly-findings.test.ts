// The anomalies read one per finding class and key give the quarterly audit the report every anomaly gives: the
// newest by last use of each class and key (the two kinds of use past a key's end are one class), a credential no
// entry names keyed by provider and credential; on SQLite a tie in last use goes to the first stored, as reading
// every anomaly `order by last_at desc` gives it (PostgreSQL promises no order for ties, so there is nothing to match).
import { describe, expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { anomalyFindingsOf } from './audit-anomaly-findings.js';
import type { AnomalyRow } from './audit-log-enrichment.js';
import { AuditUsageStore } from './audit-usage-store.js';
import { runQuarterlyAudit } from './quarterly-audit.js';

const anomaly = (
  kind: AnomalyRow['kind'],
  credential: string,
  source: string,
  keyId: string | null,
  lastAt: string,
): AnomalyRow => ({
  kind,
  provider: 'aws-iam',
  credential,
  source,
  key_id: keyId,
  owner_team: keyId === null ? 'search' : 'payments',
  detail: `${kind} of ${credential} from ${source} last at ${lastAt}`,
  count: 1,
  first_at: '2026-11-01T00:00:00Z',
  last_at: lastAt,
});

const audit = (anomalies: Parameters<typeof runQuarterlyAudit>[0]['anomalies']) =>
  runQuarterlyAudit({
    entries: [],
    asOf: new Date('2026-12-07T00:00:00Z'),
    now: new Date('2026-12-07T00:00:00Z'),
    isBroadPermission: () => false,
    anomalies,
  });

forEachBackend((backend) => {
  describe('anomalyFindingsOf', () => {
    it('reads the newest anomaly of each finding class and key, and the audit reports the same', async () => {
      const store = await backend.open();
      const usage = new AuditUsageStore(store.db);
      await usage.merge(
        [],
        [
          anomaly('unexpected-source', 'AKIA1', '10.0.0.2', 'k1', '2026-11-02T00:00:00Z'),
          anomaly('unexpected-source', 'AKIA1', '10.0.0.1', 'k1', '2026-11-05T00:00:00Z'),
          anomaly('unexpected-source', 'AKIA1', '10.0.0.3', 'k1', '2026-11-03T00:00:00Z'),
          anomaly('unregistered-key', 'AKIAX', '10.0.0.1', null, '2026-11-04T00:00:00Z'),
          anomaly('unregistered-key', 'AKIAX', '10.0.0.2', null, '2026-11-03T00:00:00Z'),
          anomaly('revoked-key-used', 'AKIA0', '10.0.0.1', 'k1', '2026-11-01T00:00:00Z'),
          anomaly('rotated-out-key-used', 'AKIA9', '10.0.0.1', 'k1', '2026-11-06T00:00:00Z'),
          anomaly('shared-across-teams', 'AKIA2', '', 'k2', '2026-11-01T00:00:00Z'),
        ],
      );
      const rows = await anomalyFindingsOf(store.db);
      const byDetail = rows.map((row) => row.detail).sort();
      expect(byDetail).toEqual([
        'rotated-out-key-used of AKIA9 from 10.0.0.1 last at 2026-11-06T00:00:00Z',
        'shared-across-teams of AKIA2 from  last at 2026-11-01T00:00:00Z',
        'unexpected-source of AKIA1 from 10.0.0.1 last at 2026-11-05T00:00:00Z',
        'unregistered-key of AKIAX from 10.0.0.1 last at 2026-11-04T00:00:00Z',
      ]);
      expect(rows.find((row) => row.kind === 'unregistered-key')).toMatchObject({
        key_id: null,
        credential: 'AKIAX',
        provider: 'aws-iam',
        owner_team: 'search',
      });
      expect(audit(rows)).toEqual(audit(await usage.anomaliesOf()));
    });

    if (backend.dialect === 'sqlite') {
      it('breaks a tie in last use by insertion order, as reading every anomaly newest first does', async () => {
        const store = await backend.open();
        const usage = new AuditUsageStore(store.db);
        await usage.merge(
          [],
          [
            anomaly('unexpected-source', 'AKIA1', '10.0.0.9', 'k1', '2026-11-04T00:00:00Z'),
            anomaly('unexpected-source', 'AKIA1', '10.0.0.1', 'k1', '2026-11-04T00:00:00Z'),
          ],
        );
        await usage.merge([], [anomaly('unexpected-source', 'AKIA1', '10.0.0.0', 'k1', '2026-11-04T00:00:00Z')]);
        const rows = await anomalyFindingsOf(store.db);
        expect(rows.map((row) => row.detail)).toEqual([
          'unexpected-source of AKIA1 from 10.0.0.9 last at 2026-11-04T00:00:00Z',
        ]);
        expect(audit(rows)).toEqual(audit(await usage.anomaliesOf()));
      });
    }

    it('reads nothing from an empty store', async () => {
      const store = await backend.open();
      expect(await anomalyFindingsOf(store.db)).toEqual([]);
    });
  });
});
