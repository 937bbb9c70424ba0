// The quarterly audit's checks, each shown firing and not firing, the brief's headline counts, and the comparison
// with the previous audit.
import { describe, expect, it } from 'vitest';
import { parsePeopleDirectory } from '../directory/people-directory.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { type AuditFindingClass, findingSlot, runQuarterlyAudit, summaryOf } from './quarterly-audit.js';

const PEOPLE = parsePeopleDirectory(
  'email,name,team,status,left_at\nann@x.example,Ann,payments,active,\nbob@x.example,Bob,growth,active,\ncarol@x.example,Carol,payments,left,2026-06-30\n',
  'people.csv',
);

function entry(keyId: string, fields: Partial<KeyEntry> = {}): { file: string; entry: KeyEntry } {
  return {
    file: `keys/${keyId}.yaml`,
    entry: {
      key_id: keyId,
      owner_team: 'payments',
      owner_individual: 'ann@x.example',
      status: 'active',
      created_at: '2026-10-01T00:00:00Z',
      expiration: '2027-09-01T00:00:00Z',
      last_rotated: '2026-10-01T00:00:00Z',
      scope: { provider: 'aws-iam', permissions: ['s3:GetObject'] },
      consumed_by: ['payments'],
      audit: { rotation_frequency_days: 90, last_audit: '2026-11-01' },
      ...fields,
    } as KeyEntry,
  };
}

const run = (entries: ReturnType<typeof entry>[], extra: Partial<Parameters<typeof runQuarterlyAudit>[0]> = {}) =>
  runQuarterlyAudit({
    entries,
    asOf: new Date('2026-12-07T00:00:00Z'),
    now: new Date('2026-12-07T00:00:00Z'),
    people: PEOPLE,
    isBroadPermission: (permission) => permission === '*' || /admin/i.test(permission),
    ...extra,
  });

const classesOf = (report: ReturnType<typeof run>, keyId: string): AuditFindingClass[] =>
  report.findings
    .filter((finding) => finding.keyId === keyId)
    .map((finding) => finding.class)
    .sort();

describe('runQuarterlyAudit', () => {
  it('finds nothing on a healthy, current, used key', () => {
    const report = run([entry('good')], {
      lastUse: new Map([['good', '2026-12-01T00:00:00.000Z']]),
      providersWithUsage: new Set(['aws-iam']),
    });
    expect(report.findings).toEqual([]);
    expect(report.headline).toEqual({ activeKeys: 1, noClearOwner: 0, ownerLeft: 0, adminScope: 0, unregistered: 0 });
  });

  it('flags each class on the key that earns it', () => {
    const report = run(
      [
        entry('stale', { audit: { rotation_frequency_days: 365, last_audit: '2026-06-01' } }),
        entry('overdue', { last_rotated: '2026-06-01T00:00:00Z', created_at: '2026-06-01T00:00:00Z' }),
        entry('expired', { expiration: '2026-12-01T00:00:00Z' }),
        entry('leaver', { owner_individual: 'carol@x.example' }),
        entry('stranger', { owner_individual: 'zed@x.example' }),
        entry('ghost-team', { owner_team: 'ghosts' }),
        entry('nobody', { owner_individual: undefined }),
        entry('admin', { scope: { provider: 'aws-iam', permissions: ['AdministratorAccess'] } }),
        entry('shared', { consumed_by: ['payments', 'growth'] }),
        entry('idle'),
        entry('never'),
        entry('stripe-unknown-usage', { scope: { provider: 'stripe' } }),
        entry('revoked-one', { status: 'revoked', owner_individual: 'carol@x.example' }),
      ],
      {
        lastUse: new Map([['idle', '2026-10-01T00:00:00.000Z']]),
        providersWithUsage: new Set(['aws-iam']),
      },
    );
    expect(classesOf(report, 'stale')).toEqual(['no-observed-use', 'stale-entry']);
    expect(classesOf(report, 'overdue')).toContain('rotation-overdue');
    expect(classesOf(report, 'expired')).toContain('expired');
    expect(classesOf(report, 'leaver')).toContain('owner-left');
    expect(classesOf(report, 'stranger')).toContain('owner-not-in-directory');
    expect(classesOf(report, 'ghost-team')).toContain('team-unknown');
    expect(classesOf(report, 'nobody')).toContain('no-clear-owner');
    expect(classesOf(report, 'admin')).toContain('broad-scope');
    expect(classesOf(report, 'shared')).toContain('shared-across-teams');
    expect(classesOf(report, 'idle')).toContain('unused-30-days');
    expect(classesOf(report, 'never')).toContain('no-observed-use');
    // No audit logs of Stripe were ingested: its key's use is unknown, not "unused".
    expect(classesOf(report, 'stripe-unknown-usage')).toEqual([]);
    expect(classesOf(report, 'revoked-one')).toEqual([]);
    expect(report.headline).toEqual({ activeKeys: 12, noClearOwner: 3, ownerLeft: 1, adminScope: 1, unregistered: 0 });
  });

  it('turns audit-log anomalies into findings of the owning team, once per key', () => {
    const report = run([entry('shared', { consumed_by: ['payments', 'growth'] }), entry('used-after-revoke')], {
      anomalies: [
        {
          kind: 'unregistered-key',
          key_id: null,
          credential: 'AKIAX',
          provider: 'aws-iam',
          owner_team: null,
          detail: 'no entry',
        },
        {
          kind: 'rotated-out-key-used',
          key_id: 'used-after-revoke',
          credential: 'AKIAOLD',
          provider: 'aws-iam',
          owner_team: 'payments',
          detail: 'old key used',
        },
        {
          kind: 'shared-across-teams',
          key_id: 'shared',
          credential: 'AKIAS',
          provider: 'aws-iam',
          owner_team: 'payments',
          detail: 'used by growth',
        },
      ],
    });
    expect(report.findings.filter((f) => f.class === 'unregistered-key')).toEqual([
      { class: 'unregistered-key', keyId: 'aws-iam:AKIAX', team: '(none)', detail: 'no entry' },
    ]);
    expect(classesOf(report, 'used-after-revoke')).toEqual(['unauthorized-use']);
    expect(classesOf(report, 'shared')).toEqual(['shared-across-teams']);
    expect(report.headline.unregistered).toBe(1);
  });

  it('counts the keys discovery listed without an entry as the brief does, and flags entries whose key is gone', () => {
    const report = run(
      [entry('kept', { provider_key_id: 'AKIAKEPT' }), entry('gone', { provider_key_id: 'AKIAGONE' })],
      {
        unregisteredListed: [
          {
            provider: 'aws-iam',
            providerKeyId: 'AKIANOENTRY',
            account: 'svc-reports',
            classes: ['unregistered', 'no-clear-owner', 'broad-scope'],
            permissions: ['AdministratorAccess'],
            createdAt: '2026-01-01T00:00:00Z',
            createdBy: 'carol@x.example',
            ownerEvidence: {
              team: 'payments',
              individual: 'ann@x.example',
              because: ['called from payments services'],
            },
          },
          {
            provider: 'github',
            providerKeyId: '4242',
            classes: ['unregistered', 'no-clear-owner'],
            ownerEvidence: { because: [] },
          },
        ],
        goneAtProvider: new Map([['aws-iam\u0000AKIAGONE', '2026-12-01T02:00:00.000Z']]),
        // An audit log showed the same unregistered key in use: one finding, not two.
        anomalies: [
          {
            kind: 'unregistered-key',
            key_id: null,
            credential: 'AKIANOENTRY',
            provider: 'aws-iam',
            owner_team: null,
            detail: 'used with no entry',
          },
        ],
      },
    );
    // Two entries plus two listed keys nobody registered: both without a clear owner, one with admin scope.
    expect(report.headline).toEqual({ activeKeys: 4, noClearOwner: 2, ownerLeft: 0, adminScope: 1, unregistered: 2 });
    // Sorted by team: (none) first.
    expect(report.findings.filter((f) => f.class === 'unregistered-key')).toEqual([
      {
        class: 'unregistered-key',
        keyId: 'github:4242',
        team: '(none)',
        detail: 'listed by github with no registry entry',
      },
      {
        class: 'unregistered-key',
        keyId: 'aws-iam:AKIANOENTRY',
        team: 'payments',
        owner: 'ann@x.example',
        detail:
          'listed by aws-iam with no registry entry (account svc-reports, created by carol@x.example, on 2026-01-01, ' +
          'broad permissions: AdministratorAccess, owner evidence: called from payments services)',
      },
    ]);
    expect(classesOf(report, 'gone')).toEqual(['registered-gone']);
    expect(classesOf(report, 'kept')).toEqual([]);
    expect(report.keysByTeam['(none)']).toBe(2);
  });

  it('compares with the previous audit: new and resolved findings, headline then and now', () => {
    const first = run([
      entry('overdue', { last_rotated: '2026-06-01T00:00:00Z' }),
      entry('expired', { expiration: '2026-12-01T00:00:00Z' }),
    ]);
    const second = run(
      [
        entry('overdue', { last_rotated: '2026-06-01T00:00:00Z' }),
        entry('leaver', { owner_individual: 'carol@x.example' }),
      ],
      {
        previous: {
          id: 'p',
          asOf: first.asOf,
          summary: summaryOf(first),
          findings: new Set(first.findings.map(findingSlot)),
        },
      },
    );
    expect(second.previous).toMatchObject({
      newFindings: 1,
      resolvedFindings: 1,
      resolved: [{ class: 'expired', keyId: 'expired' }],
    });
    expect(second.previous?.headline.ownerLeft).toBe(0);
    expect(second.headline.ownerLeft).toBe(1);
  });

  it('buckets active keys by age and counts them per team', () => {
    const report = run([
      entry('new', { created_at: '2026-11-01T00:00:00Z' }),
      entry('old', { created_at: '2024-01-01T00:00:00Z', owner_team: 'growth', owner_individual: 'bob@x.example' }),
      entry('undated', { created_at: undefined }),
    ]);
    expect(report.ageBuckets).toEqual({ '<90d': 1, '90-180d': 0, '180-365d': 0, '>1y': 1, unknown: 1 });
    expect(report.keysByTeam).toEqual({ payments: 2, growth: 1 });
  });
});
