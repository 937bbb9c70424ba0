// Drift: a key a provider lists is unregistered only when no entry names it — a revoked entry's key still live at
// the provider is the registry's key (its use is what the audit logs flag as revoked-key-used).
import { describe, expect, it } from 'vitest';
import type { DiscoveredKeysTable } from '../db/operational-schema.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { classifyKeys, classifyUnregisteredKeys } from './drift-classification.js';

function row(id: string): DiscoveredKeysTable {
  return {
    provider: 'aws-iam',
    provider_key_id: id,
    account: 'svc-payments-1',
    name: null,
    status: 'active',
    created_at: '2026-01-01T00:00:00Z',
    created_by: null,
    last_used_at: '2026-11-30T00:00:00Z',
    permissions: null,
    first_seen_at: '2026-12-01T00:00:00Z',
    last_seen_at: '2026-12-01T00:00:00Z',
    gone_at: null,
  };
}

const revoked = {
  key_id: 'payments-aws-old-001',
  status: 'revoked',
  owner_team: 'payments',
  owner_individual: 'ann@x.example',
  provider_key_id: 'AKIAREVOKED',
  scope: { provider: 'aws-iam', account_id: 'svc-payments-1' },
} as unknown as KeyEntry;

describe('classifyKeys', () => {
  it('calls unregistered only the listed keys no entry names, whatever the entry status', () => {
    const { keys } = classifyKeys({
      entries: [revoked],
      discovered: [row('AKIAREVOKED'), row('AKIANOBODY')],
      completeProviders: new Set(['aws-iam']),
      lastUseReported: new Set(['aws-iam']),
      asOf: new Date('2026-12-01T00:00:00Z'),
      isBroadPermission: () => false,
    });
    expect(keys.map((key) => [key.providerKeyId, key.classes, key.category])).toEqual([
      ['AKIANOBODY', ['unregistered', 'no-clear-owner'], 'service-key'],
    ]);
  });

  it("calls an unregistered key shared when the audit logs saw several teams' services call it", () => {
    const { keys } = classifyKeys({
      entries: [],
      discovered: [row('AKIASHARED'), row('AKIAONETEAM'), row('AKIAQUIET')],
      completeProviders: new Set(['aws-iam']),
      lastUseReported: new Set(['aws-iam']),
      asOf: new Date('2026-12-01T00:00:00Z'),
      isBroadPermission: () => false,
      callerTeams: new Map([
        ['aws-iam\u0000AKIASHARED', ['payments', 'search']],
        ['aws-iam\u0000AKIAONETEAM', ['search']],
      ]),
    });
    const byId = new Map(keys.map((key) => [key.providerKeyId, key]));
    expect(byId.get('AKIASHARED')!.classes).toContain('shared-across-teams');
    expect(byId.get('AKIASHARED')!.category).toBe('shared-between-teams');
    // One calling team is owner evidence for the adoption draft, not sharing.
    expect(byId.get('AKIAONETEAM')!.classes).not.toContain('shared-across-teams');
    expect(byId.get('AKIAONETEAM')!.ownerEvidence?.team).toBe('search');
    expect(byId.get('AKIAQUIET')!.classes).toEqual(['unregistered', 'no-clear-owner']);
  });

  it('classifies only the unregistered keys exactly as the whole classification does (the audit reads these)', () => {
    const active = {
      ...revoked,
      key_id: 'payments-aws-001',
      status: 'active',
      provider_key_id: 'AKIAACTIVE',
    } as KeyEntry;
    const input = {
      entries: [revoked, active],
      discovered: [
        row('AKIAREVOKED'),
        row('AKIAACTIVE'),
        row('AKIANOBODY'),
        { ...row('AKIAADMIN'), permissions: JSON.stringify(['AdministratorAccess']) },
        { ...row('AKIADEAD'), status: 'revoked' },
        { ...row('AKIAGONE'), gone_at: '2026-11-30T00:00:00Z' },
        { ...row('AKIASHARED'), last_used_at: '2026-09-01T00:00:00Z' },
      ],
      completeProviders: new Set(['aws-iam']),
      lastUseReported: new Set(['aws-iam']),
      asOf: new Date('2026-12-01T00:00:00Z'),
      isBroadPermission: (permission: string) => /admin/i.test(permission),
      callerTeams: new Map([['aws-iam\u0000AKIASHARED', ['payments', 'search']]]),
    };
    const whole = classifyKeys(input).keys.filter((key) => key.classes.includes('unregistered'));
    expect(whole.map((key) => key.providerKeyId)).toEqual(['AKIAADMIN', 'AKIANOBODY', 'AKIASHARED']);
    expect(classifyUnregisteredKeys(input)).toEqual(whole);
  });
});
