import { describe, expect, it } from 'vitest';
import { PeopleDirectory } from '../../directory/people-directory.js';
import { type KeyEntry, keyEntrySchema } from '../key-entry-schema.js';
import { defaultRegistryConfig, type PolicyConfig } from '../registry-config.js';
import { checkEntry, compilePolicy } from './policy-engine.js';

const NOW = new Date('2026-11-23T12:00:00Z');

function entry(overrides: Record<string, unknown> = {}): KeyEntry {
  return keyEntrySchema.parse({
    key_id: 'payments-stripe-live-001',
    description: 'Stripe live API key for payments service',
    owner_team: 'payments',
    owner_individual: 'alice@example.com',
    created_at: '2026-04-01T10:00:00Z',
    expiration: '2027-04-01T10:00:00Z',
    last_rotated: '2026-04-01T10:00:00Z',
    scope: { provider: 'stripe', account_id: 'acct_xxx', permissions: ['charges:write', 'customers:read'] },
    storage: { vault_path: 'secret/payments/stripe-live' },
    consumed_by: [{ kubernetes_secret: 'payments-stripe-credentials', namespace: 'payments' }],
    audit: { rotation_owner: 'payments-team', rotation_frequency_days: 365, last_audit: '2026-04-01' },
    ...overrides,
  });
}

function policy(overrides: Partial<PolicyConfig> = {}): PolicyConfig {
  return { ...defaultRegistryConfig().policy, ...overrides };
}

function rulesFired(value: KeyEntry, config: PolicyConfig = policy(), people?: PeopleDirectory): string[] {
  return checkEntry(value, compilePolicy(config, NOW, people)).map((violation) => violation.rule);
}

const people = new PeopleDirectory([
  { email: 'alice@example.com', team: 'payments', status: 'active' },
  { email: 'carol@example.com', team: 'platform', status: 'left', left_at: '2026-06-30' },
]);

describe('policy rules', () => {
  it('the article’s example passes every rule', () => {
    expect(
      rulesFired(entry(), policy({ allowed_teams: ['payments'], key_id_pattern: '^[a-z0-9-]+$' }), people),
    ).toEqual([]);
  });

  it('owner-required fires for a missing team and a missing individual', () => {
    const violations = checkEntry(
      entry({ owner_team: undefined, owner_individual: undefined }),
      compilePolicy(policy(), NOW),
    );
    expect(violations.filter((v) => v.rule === 'owner-required').map((v) => v.path)).toEqual([
      ['owner_team'],
      ['owner_individual'],
    ]);
  });

  it('expiration-required fires without expiration or created_at', () => {
    expect(rulesFired(entry({ expiration: undefined }))).toContain('expiration-required');
    expect(rulesFired(entry({ created_at: undefined }))).toContain('expiration-required');
  });

  describe('max-lifetime', () => {
    it('allows exactly 365 days', () => {
      expect(
        rulesFired(entry({ created_at: '2026-04-01T10:00:00Z', expiration: '2027-04-01T10:00:00Z' })),
      ).not.toContain('max-lifetime');
    });

    it('refuses 365 days and one second', () => {
      expect(rulesFired(entry({ created_at: '2026-04-01T10:00:00Z', expiration: '2027-04-01T10:00:01Z' }))).toContain(
        'max-lifetime',
      );
    });

    it('refuses "one year" across a leap day (366 days)', () => {
      const fired = rulesFired(entry({ created_at: '2027-06-01T00:00:00Z', expiration: '2028-06-01T00:00:00Z' }));
      expect(fired).toContain('max-lifetime');
    });

    it('allows 365 days across a leap day', () => {
      expect(
        rulesFired(entry({ created_at: '2027-06-01T00:00:00Z', expiration: '2028-05-31T00:00:00Z' })),
      ).not.toContain('max-lifetime');
    });

    it('compares instants, not wall clocks: zones count', () => {
      // 365 days of wall clock, but the expiration's zone puts it two hours later in UTC.
      expect(
        rulesFired(entry({ created_at: '2026-04-01T10:00:00Z', expiration: '2027-04-01T10:00:00-02:00' })),
      ).toContain('max-lifetime');
      expect(
        rulesFired(entry({ created_at: '2026-04-01T10:00:00Z', expiration: '2027-04-01T10:00:00+02:00' })),
      ).not.toContain('max-lifetime');
    });

    it('reads zone-less timestamps and bare dates as UTC', () => {
      expect(rulesFired(entry({ created_at: '2026-04-01', expiration: '2027-04-01' }))).not.toContain('max-lifetime');
      expect(rulesFired(entry({ created_at: '2026-04-01T10:00:00', expiration: '2027-04-01T10:00:01' }))).toContain(
        'max-lifetime',
      );
    });

    it('refuses an expiration before creation', () => {
      const violations = checkEntry(entry({ expiration: '2026-03-01T00:00:00Z' }), compilePolicy(policy(), NOW));
      expect(violations.find((v) => v.rule === 'max-lifetime')?.message).toMatch(/not after created_at/);
    });

    it('is configurable, and per provider', () => {
      const e = entry({ created_at: '2026-04-01T10:00:00Z', expiration: '2026-08-01T10:00:00Z' });
      expect(rulesFired(e, policy({ max_lifetime_days: 90 }))).toContain('max-lifetime');
      expect(rulesFired(e, policy({ max_lifetime_days_by_provider: { stripe: 90 } }))).toContain('max-lifetime');
      expect(rulesFired(e, policy({ max_lifetime_days_by_provider: { 'aws-iam': 90 } }))).not.toContain('max-lifetime');
      const message = checkEntry(e, compilePolicy(policy({ max_lifetime_days_by_provider: { stripe: 90 } }), NOW)).find(
        (v) => v.rule === 'max-lifetime',
      )?.message;
      expect(message).toMatch(/for provider stripe/);
    });
  });

  it('expired fires for live keys past expiration only', () => {
    expect(rulesFired(entry({ created_at: '2025-11-01T00:00:00Z', expiration: '2026-11-01T00:00:00Z' }))).toContain(
      'expired',
    );
    expect(
      rulesFired(entry({ created_at: '2025-11-01T00:00:00Z', expiration: '2026-11-01T00:00:00Z', status: 'revoked' })),
    ).not.toContain('expired');
    expect(rulesFired(entry())).not.toContain('expired');
  });

  it('rotation-overdue fires after last_rotated + rotation_frequency_days', () => {
    const e = entry({ last_rotated: '2026-06-01T00:00:00Z', audit: { rotation_frequency_days: 90 } });
    expect(rulesFired(e)).toContain('rotation-overdue');
    expect(
      rulesFired(entry({ last_rotated: '2026-10-01T00:00:00Z', audit: { rotation_frequency_days: 90 } })),
    ).not.toContain('rotation-overdue');
    expect(rulesFired(entry({ audit: {} }))).not.toContain('rotation-overdue');
  });

  it('purpose-required accepts `purpose` or the article’s `description`', () => {
    expect(rulesFired(entry({ description: undefined }))).toContain('purpose-required');
    expect(rulesFired(entry({ description: '   ' }))).toContain('purpose-required');
    expect(rulesFired(entry({ description: undefined, purpose: 'webhooks' }))).not.toContain('purpose-required');
  });

  it('scope-required fires without a scope', () => {
    expect(rulesFired(entry({ scope: undefined }))).toContain('scope-required');
  });

  it('storage-required fires for live keys without storage', () => {
    expect(rulesFired(entry({ storage: undefined }))).toContain('storage-required');
    expect(rulesFired(entry({ storage: undefined, status: 'retired' }))).not.toContain('storage-required');
  });

  describe('forbidden-permissions', () => {
    it.each([
      '*',
      's3:*',
      'admin',
      'org:admin',
      'Admin',
      'cluster-admin',
      'cluster-wide',
      'full_access',
      'root',
      'AdministratorAccess',
      'arn:aws:iam::aws:policy/AdministratorAccess',
      'roles/owner',
      'administration:write',
      'Directory.ReadWrite.All',
      'write',
      'main',
      'all',
      'Account Settings:Edit',
      'api_keys_write',
      'api_keys.create',
      'user_access_manage',
    ])('fires for %j', (permission) => {
      expect(rulesFired(entry({ scope: { provider: 'x', permissions: ['read', permission] } }))).toContain(
        'forbidden-permissions',
      );
    });

    it.each([
      'charges:write',
      'administrator-contact:read',
      'readonly',
      'badminton:read',
      'roles/storage.objectViewer',
      'User.Read.All',
      'administration:read',
      'read',
      'metrics_write',
      'contents:write',
      'standard',
      'model.request',
      'Zone:Edit',
      'api_keys_read',
      'mail.send',
    ])('does not fire for %j', (permission) => {
      expect(rulesFired(entry({ scope: { provider: 'x', permissions: [permission] } }))).not.toContain(
        'forbidden-permissions',
      );
    });

    it('is satisfied by a justification', () => {
      expect(
        rulesFired(
          entry({ scope: { provider: 'x', permissions: ['*'] }, justification: 'break-glass, reviewed 2026-10' }),
        ),
      ).not.toContain('forbidden-permissions');
    });

    it('points at the offending permission', () => {
      const violation = checkEntry(
        entry({ scope: { provider: 'x', permissions: ['read', 'admin'] } }),
        compilePolicy(policy(), NOW),
      ).find((v) => v.rule === 'forbidden-permissions');
      expect(violation?.path).toEqual(['scope', 'permissions', 1]);
    });

    it('uses the configured patterns (RE2 syntax)', () => {
      expect(rulesFired(entry(), policy({ forbidden_permissions: ['(?i)^charges:'] }))).toContain(
        'forbidden-permissions',
      );
    });
  });

  it('allowed-teams fires for a team not in the list, and not without a list', () => {
    expect(rulesFired(entry(), policy({ allowed_teams: ['platform'] }))).toContain('allowed-teams');
    expect(rulesFired(entry(), policy({ allowed_teams: ['payments'] }))).not.toContain('allowed-teams');
    expect(rulesFired(entry())).not.toContain('allowed-teams');
  });

  it('key-id-pattern fires for a key_id off the pattern', () => {
    expect(
      rulesFired(entry({ key_id: 'Payments_Stripe' }), policy({ key_id_pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' })),
    ).toContain('key-id-pattern');
    expect(rulesFired(entry(), policy({ key_id_pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' }))).not.toContain('key-id-pattern');
  });

  it('owner-in-directory fires for an unknown owner and for a leaver', () => {
    expect(rulesFired(entry({ owner_individual: 'nobody@example.com' }), policy(), people)).toContain(
      'owner-in-directory',
    );
    const leaver = checkEntry(entry({ owner_individual: 'carol@example.com' }), compilePolicy(policy(), NOW, people));
    expect(leaver.find((v) => v.rule === 'owner-in-directory')?.message).toMatch(/left on 2026-06-30/);
    expect(rulesFired(entry({ owner_individual: 'ALICE@example.com' }), policy(), people)).not.toContain(
      'owner-in-directory',
    );
    expect(rulesFired(entry({ owner_individual: 'nobody@example.com' }))).not.toContain('owner-in-directory');
  });

  it('shared-key fires for Step 6’s bad example and not its good one', () => {
    expect(
      rulesFired(entry({ owner_team: 'shared', consumed_by: ['payments', 'recommendations', 'search', 'chat'] })),
    ).toContain('shared-key');
    expect(
      rulesFired(
        entry({
          consumed_by: [
            { service: 'a', team: 'payments' },
            { service: 'b', team: 'search' },
          ],
        }),
      ),
    ).toContain('shared-key');
    expect(rulesFired(entry({ consumed_by: ['payments'] }))).not.toContain('shared-key');
  });

  it('severities come from the config, and `off` silences a rule', () => {
    const shared = entry({ consumed_by: ['payments', 'search'] });
    expect(checkEntry(shared, compilePolicy(policy(), NOW)).find((v) => v.rule === 'shared-key')?.severity).toBe(
      'warning',
    );
    expect(
      checkEntry(shared, compilePolicy(policy({ rules: { 'shared-key': 'error' } }), NOW)).find(
        (v) => v.rule === 'shared-key',
      )?.severity,
    ).toBe('error');
    expect(rulesFired(shared, policy({ rules: { 'shared-key': 'off' } }))).not.toContain('shared-key');
  });

  it('rejects unknown rule ids and bad patterns in the config', () => {
    expect(() => compilePolicy(policy({ rules: { 'no-such-rule': 'off' } }), NOW)).toThrow(
      /unknown rule "no-such-rule"/,
    );
    expect(() => compilePolicy(policy({ key_id_pattern: '(' }), NOW)).toThrow(/key_id_pattern/);
  });
});
