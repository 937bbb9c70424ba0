// The orphaned-keys brief's three shapes, read from the registry, discovery and audit usage on both engines, each
// with the owner it should have; keys that are none of them are not reported.
import { expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import type { DirectoryPerson } from '../directory/identity-source.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { defaultRegistryConfig } from '../registry/registry-config.js';
import type { LoadedEntry } from '../registry/registry-loader.js';
import { detectOrphans, readOrphanEvidence } from './orphan-keys.js';
import { sharedOwnerPolicy } from './shared-owner.js';

const now = new Date('2026-06-01T00:00:00Z');
const people: DirectoryPerson[] = [
  { id: '1', email: 'gone@acme.io', team: 'payments', status: 'deprovisioned', source: 'hr-file' },
  { id: '2', email: 'here@acme.io', team: 'payments', status: 'active', source: 'hr-file' },
  { id: '3', email: 'other@acme.io', team: 'search', status: 'active', source: 'hr-file' },
];

function entry(keyId: string, fields: Partial<KeyEntry>): LoadedEntry {
  return {
    file: `keys/${keyId}.yaml`,
    entry: {
      key_id: keyId,
      description: keyId,
      owner_team: 'payments',
      owner_individual: 'here@acme.io',
      created_at: '2025-01-01',
      status: 'active',
      ...fields,
    } as KeyEntry,
  } as LoadedEntry;
}

const entries = [
  // Held by the leaver's own IAM user (a numbered second user of theirs).
  entry('payments-aws-gone', {
    provider_key_id: 'AKIAGONE',
    scope: { provider: 'aws-iam', account_id: 'gone-2' },
  } as Partial<KeyEntry>),
  // A webhook token the leaver created, used last week.
  entry('payments-slack-webhook', {
    provider_key_id: 'whk-1',
    scope: { provider: 'slack', account_id: 'T01' },
  } as Partial<KeyEntry>),
  // One secret consumed by two teams.
  entry('payments-stripe-shared', {
    provider_key_id: 'rk_1',
    scope: { provider: 'stripe', account_id: 'acct_1' },
    consumed_by: ['payments', 'search'],
  } as Partial<KeyEntry>),
  // None of the three: an active person's key, one team.
  entry('payments-github-fine', {
    provider_key_id: 'ghp-1',
    scope: { provider: 'github', account_id: 'acme' },
  } as Partial<KeyEntry>),
];

forEachBackend((backend) => {
  it('reports each shape with the owner it should have, from discovery and usage', async () => {
    const store = await backend.open();
    const seen = { first_seen_at: '2026-05-01T00:00:00Z', last_seen_at: '2026-05-31T00:00:00Z', gone_at: null };
    await store.db
      .insertInto('discovered_keys')
      .values([
        {
          provider: 'aws-iam',
          provider_key_id: 'AKIAGONE',
          account: 'gone-2',
          name: null,
          status: 'active',
          created_at: null,
          created_by: null,
          last_used_at: '2026-05-20T00:00:00Z',
          permissions: null,
          ...seen,
        },
        {
          provider: 'slack',
          provider_key_id: 'whk-1',
          account: 'T01',
          name: null,
          status: 'active',
          created_at: null,
          created_by: 'gone@acme.io',
          last_used_at: null,
          permissions: null,
          ...seen,
        },
        // Unregistered, under the leaver's user, never used: still their personal key.
        {
          provider: 'aws-iam',
          provider_key_id: 'AKIAUNREG',
          account: 'gone',
          name: null,
          status: 'active',
          created_at: null,
          created_by: 'gone@acme.io',
          last_used_at: null,
          permissions: null,
          ...seen,
        },
        {
          provider: 'github',
          provider_key_id: 'ghp-1',
          account: 'acme',
          name: null,
          status: 'active',
          created_at: null,
          created_by: 'here@acme.io',
          last_used_at: '2026-05-30T00:00:00Z',
          permissions: null,
          ...seen,
        },
      ])
      .execute();
    await store.db
      .insertInto('audit_usage')
      .values({
        provider: 'slack',
        credential: 'whk-1',
        day: '2026-05-25',
        source: '198.51.100.7',
        principal: '',
        outcome: 'success',
        key_id: 'payments-slack-webhook',
        source_team: 'payments',
        count: 12,
        first_at: '2026-05-25T01:00:00Z',
        last_at: '2026-05-25T23:00:00Z',
        last_current_at: '2026-05-25T23:00:00Z',
      })
      .execute();
    const orphans = detectOrphans({
      entries,
      ...(await readOrphanEvidence(store.db)),
      people,
      sharedOwners: sharedOwnerPolicy(defaultRegistryConfig()),
      now,
    });
    expect(orphans.map((o) => [o.shape, o.key, o.shouldBeOwnedBy])).toEqual([
      ['integration-creator-left', 'payments-slack-webhook', 'payments-shared@acme.io'],
      ['personal-key-of-leaver', 'AKIAUNREG', 'payments-shared@acme.io'],
      ['personal-key-of-leaver', 'payments-aws-gone', 'payments-shared@acme.io'],
      ['shared-between-teams', 'payments-stripe-shared', 'payments-shared@acme.io'],
    ]);
    expect(orphans.find((o) => o.key === 'AKIAUNREG')?.registered).toBe(false);

    // Use by a credential that was no longer the entry's current one (a rotated-out or revoked webhook still called:
    // a stolen-key signal) does not make the key "in use": the leaver's integration is no longer reported as used.
    await store.db.updateTable('audit_usage').set({ last_current_at: null }).execute();
    const stolenOnly = detectOrphans({
      entries,
      ...(await readOrphanEvidence(store.db)),
      people,
      sharedOwners: sharedOwnerPolicy(defaultRegistryConfig()),
      now,
    });
    expect(stolenOnly.map((o) => o.key)).not.toContain('payments-slack-webhook');
  });
});
