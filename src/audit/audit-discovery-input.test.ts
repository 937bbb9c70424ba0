// The audit's discovery input reads whole rows only for the live keys no entry names; what it gives must be what
// reading every discovered row and classifying the unregistered ones among them gives (the read before it), on both
// engines: the unregistered keys (several statements' worth, on two providers, with a revoked one left out), the
// registered keys gone at their provider, and the holders of live keys, registered or not.
import { describe, expect, it } from 'vitest';
import type { DiscoveredKeysTable } from '../db/operational-schema.js';
import { forEachBackend } from '../db/test-support/test-databases.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { readAuditDiscoveryInput } from './audit-discovery-input.js';
import type { UsageRow } from './audit-log-enrichment.js';
import { AuditUsageStore } from './audit-usage-store.js';
import { classifyUnregisteredKeys } from './drift-classification.js';
import { discoveredKeys } from './key-discovery.js';

const ASOF = new Date('2026-12-01T00:00:00Z');
const isBroadPermission = (permission: string) => /admin/i.test(permission);

function row(provider: string, id: string, extra: Partial<DiscoveredKeysTable> = {}): DiscoveredKeysTable {
  return {
    provider,
    provider_key_id: id,
    account: 'svc-payments-1',
    name: null,
    status: 'active',
    created_at: '2026-01-01T00:00:00Z',
    created_by: null,
    last_used_at: '2026-09-30T00:00:00Z',
    permissions: null,
    first_seen_at: '2026-11-01T00:00:00Z',
    last_seen_at: '2026-11-01T00:00:00Z',
    gone_at: null,
    holder: null,
    ...extra,
  };
}

function entry(keyId: string, provider: string, providerKeyId: string, status = 'active'): KeyEntry {
  return {
    key_id: keyId,
    status,
    owner_team: 'payments',
    owner_individual: 'ann@x.example',
    provider_key_id: providerKeyId,
    scope: { provider, account_id: 'svc-payments-1' },
  } as unknown as KeyEntry;
}

const usageRow = (credential: string, team: string): UsageRow => ({
  provider: 'aws-iam',
  credential,
  day: '2026-11-20',
  source: `10.0.0.${team.length}`,
  principal: '',
  outcome: 'success',
  key_id: null,
  source_team: team,
  count: 1,
  first_at: '2026-11-20T00:00:00.000Z',
  last_at: '2026-11-20T00:00:00.000Z',
  last_current_at: null,
});

forEachBackend((backend) => {
  describe('readAuditDiscoveryInput', () => {
    it('gives what reading every discovered row and classifying the unregistered ones gives', async () => {
      const store = await backend.open();
      const usage = new AuditUsageStore(store.db);
      const entries = [
        entry('payments-aws-001', 'aws-iam', 'AKIAREGISTERED'),
        entry('payments-aws-002', 'aws-iam', 'AKIAGONE'),
        entry('payments-aws-old', 'aws-iam', 'AKIAREVOKEDENTRY', 'revoked'),
        entry('payments-gh-001', 'github', 'ghp-registered'),
      ];
      const rows = [
        row('aws-iam', 'AKIAREGISTERED', { holder: 'deploy-bot' }),
        row('aws-iam', 'AKIAGONE', { gone_at: '2026-11-20T00:00:00Z' }),
        row('aws-iam', 'AKIAREVOKEDENTRY'),
        row('aws-iam', 'AKIAUNREGGONE', { gone_at: '2026-11-21T00:00:00Z' }),
        row('aws-iam', 'AKIADEAD', { status: 'revoked' }),
        row('aws-iam', 'AKIAADMIN', { permissions: JSON.stringify(['AdministratorAccess']), holder: 'ci-user' }),
        row('aws-iam', 'AKIASHARED', { created_by: 'bob@x.example' }),
        row('github', 'ghp-registered'),
        row('github', 'ghp-unregistered', { last_used_at: null }),
        // More unregistered keys than one statement reads (ROWS_BATCH), in an order their ids do not sort in.
        ...Array.from({ length: 1_203 }, (_, i) =>
          row('aws-iam', `AKIAMANY${String((i * 7919) % 1_203).padStart(5, '0')}`),
        ),
      ];
      for (let i = 0; i < rows.length; i += 200) {
        await store.db
          .insertInto('discovered_keys')
          .values(rows.slice(i, i + 200))
          .execute();
      }
      await usage.merge([usageRow('AKIASHARED', 'payments'), usageRow('AKIASHARED', 'search')], []);

      const input = await readAuditDiscoveryInput({ db: store.db, usage, entries, asOf: ASOF, isBroadPermission });

      // The read before: every row, the live ones classified against every entry.
      const every = await discoveredKeys(store.db, { includeGone: true });
      const whole = classifyUnregisteredKeys({
        entries,
        discovered: every.filter((discovered) => discovered.gone_at === null),
        completeProviders: new Set(),
        lastUseReported: new Set(),
        asOf: ASOF,
        isBroadPermission,
        callerTeams: await usage.teamsOfUnregisteredCredentials(),
      });
      expect(input.unregisteredListed).toEqual(whole);
      expect(input.unregisteredListed).toHaveLength(1_203 + 3);
      expect(input.unregisteredListed.slice(0, 2).map((key) => key.providerKeyId)).toEqual([
        'AKIAADMIN',
        'AKIAMANY00000',
      ]);
      expect(input.unregisteredListed.find((key) => key.providerKeyId === 'AKIASHARED')?.classes).toContain(
        'shared-across-teams',
      );
      expect(input.unregisteredListed.at(-1)?.providerKeyId).toBe('ghp-unregistered');
      expect(input.goneAtProvider).toEqual(
        new Map([
          ['aws-iam\u0000AKIAGONE', '2026-11-20T00:00:00Z'],
          ['aws-iam\u0000AKIAUNREGGONE', '2026-11-21T00:00:00Z'],
        ]),
      );
      expect(input.holders).toEqual(
        new Map([
          ['aws-iam\u0000AKIAREGISTERED', 'deploy-bot'],
          ['aws-iam\u0000AKIAADMIN', 'ci-user'],
        ]),
      );
    });

    it('gives no unregistered key when every live key is registered, and still the gone ones', async () => {
      const store = await backend.open();
      const usage = new AuditUsageStore(store.db);
      await store.db
        .insertInto('discovered_keys')
        .values([row('aws-iam', 'AKIAREGISTERED'), row('aws-iam', 'AKIAGONE', { gone_at: '2026-11-20T00:00:00Z' })])
        .execute();
      const input = await readAuditDiscoveryInput({
        db: store.db,
        usage,
        entries: [entry('payments-aws-001', 'aws-iam', 'AKIAREGISTERED')],
        asOf: ASOF,
        isBroadPermission,
      });
      expect(input).toEqual({
        unregisteredListed: [],
        goneAtProvider: new Map([['aws-iam\u0000AKIAGONE', '2026-11-20T00:00:00Z']]),
        holders: new Map(),
      });
    });
  });
});
