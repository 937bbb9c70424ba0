import { describe, expect, it } from 'vitest';
import { analyzeEntryText } from './entry-analysis.js';
import { compilePolicy } from './policy/policy-engine.js';
import { defaultRegistryConfig } from './registry-config.js';
import { SEED_EXAMPLE } from './test-support/registry-fixtures.js';

const policy = compilePolicy(defaultRegistryConfig().policy, new Date('2026-11-23T00:00:00Z'));

describe('analyzeEntryText', () => {
  it('loads the article’s example exactly as written, with no issue at all', () => {
    const analysis = analyzeEntryText('keys/payments-stripe-live.yaml', SEED_EXAMPLE, policy);
    expect(analysis.issues).toEqual([]);
    expect(analysis.entry).toMatchObject({
      key_id: 'payments-stripe-live-001',
      owner_team: 'payments',
      owner_individual: 'alice@example.com',
      created_at: '2026-04-01T10:00:00Z',
      scope: { provider: 'stripe', account_id: 'acct_xxx', permissions: ['charges:write', 'customers:read'] },
      storage: { vault_path: 'secret/payments/stripe-live' },
      consumed_by: [{ kubernetes_secret: 'payments-stripe-credentials', namespace: 'payments' }],
      audit: { rotation_owner: 'payments-team', rotation_frequency_days: 365 },
      status: 'active',
    });
  });

  it('reports a YAML syntax error with its line and column', () => {
    const text = 'key_id: a\nowner_team: [payments\nowner_individual: x\n';
    const [issue] = analyzeEntryText('keys/a.yaml', text, policy).issues;
    expect(issue).toMatchObject({ rule: 'yaml-syntax', severity: 'error', file: 'keys/a.yaml' });
    expect(issue?.line).toBeGreaterThanOrEqual(2);
    expect(issue?.column).toBeGreaterThanOrEqual(1);
  });

  it('reports a duplicated field as a YAML error', () => {
    const [issue] = analyzeEntryText('k.yaml', 'key_id: a\nkey_id: b\n').issues;
    expect(issue).toMatchObject({ rule: 'yaml-syntax', line: 2 });
  });

  it('points a schema error at the field: file, line, column and path', () => {
    const text = SEED_EXAMPLE.replace('rotation_frequency_days: 365', 'rotation_frequency_days: yearly');
    const issue = analyzeEntryText('keys/x.yaml', text, policy).issues.find((i) => i.rule === 'schema');
    expect(issue).toMatchObject({
      file: 'keys/x.yaml',
      line: 21,
      column: 3,
      field: 'audit.rotation_frequency_days',
      keyId: 'payments-stripe-live-001',
    });
  });

  it('points into sequences', () => {
    const text = SEED_EXAMPLE.replace(
      'permissions: ["charges:write", "customers:read"]',
      'permissions:\n    - charges:write\n    - 42',
    );
    const issue = analyzeEntryText('k.yaml', text, policy).issues.find((i) => i.rule === 'schema');
    expect(issue).toMatchObject({ field: 'scope.permissions[1]', line: 14, column: 7 });
  });

  it('points a missing field at its parent', () => {
    const text = SEED_EXAMPLE.replace('  provider: stripe\n', '');
    const issue = analyzeEntryText('k.yaml', text, policy).issues.find((i) => i.rule === 'schema');
    expect(issue).toMatchObject({ field: 'scope.provider', line: 9, column: 1 });
    expect(issue?.message).toBe('missing required field "provider"');
  });

  it('reports an invalid date with its position', () => {
    const issue = analyzeEntryText(
      'k.yaml',
      SEED_EXAMPLE.replace('expiration: 2027-04-01T10:00:00Z', 'expiration: 2027-02-30'),
      policy,
    ).issues[0];
    expect(issue).toMatchObject({ rule: 'schema', field: 'expiration', line: 7 });
    expect(issue?.message).toMatch(/ISO 8601/);
  });

  it('warns about an unknown field by name, keeps it, and still accepts the entry', () => {
    const text = SEED_EXAMPLE.replace('owner_team: payments', 'owner_team: payments\ncost_center: 42').replace(
      'rotation_owner: payments-team',
      'rotation_owner: payments-team\n  reviewer: bob',
    );
    const analysis = analyzeEntryText('k.yaml', text, policy);
    expect(analysis.issues.map((i) => [i.rule, i.severity, i.field, i.line])).toEqual([
      ['unknown-field', 'warning', 'cost_center', 5],
      ['unknown-field', 'warning', 'audit.reviewer', 22],
    ]);
    expect(analysis.issues[0]?.message).toContain('"cost_center"');
    expect((analysis.entry as Record<string, unknown>).cost_center).toBe(42);
  });

  it('still applies the policy to the well-formed fields when one field is malformed', () => {
    const text = SEED_EXAMPLE.replace('rotation_frequency_days: 365', 'rotation_frequency_days: x').replace(
      'owner_team: payments\n',
      '',
    );
    const rules = analyzeEntryText('k.yaml', text, policy).issues.map((i) => i.rule);
    expect(rules).toContain('schema');
    expect(rules).toContain('owner-required');
  });

  it.each([
    ['', /empty/],
    ['- a\n- b\n', /mapping/],
    ['just text', /mapping/],
  ])('rejects a file that is not one entry: %j', (text, message) => {
    const [issue] = analyzeEntryText('k.yaml', text).issues;
    expect(issue?.message).toMatch(message);
    expect(issue?.line).toBe(1);
  });

  it('reads the status enum and rejects other values', () => {
    const issue = analyzeEntryText('k.yaml', `${SEED_EXAMPLE}status: paused\n`).issues[0];
    expect(issue).toMatchObject({ rule: 'schema', field: 'status', line: 23 });
    expect(issue?.message).toMatch(/"active"/);
  });

  it('accepts the `store` + `path` storage form and rejects storage with neither', () => {
    const storeForm = SEED_EXAMPLE.replace(
      '  vault_path: "secret/payments/stripe-live"',
      '  store: aws\n  path: payments/stripe',
    );
    expect(analyzeEntryText('k.yaml', storeForm).issues).toEqual([]);
    const empty = SEED_EXAMPLE.replace('  vault_path: "secret/payments/stripe-live"', '  store: aws');
    expect(analyzeEntryText('k.yaml', empty).issues.map((i) => i.field)).toContain('storage.path');
  });
});
