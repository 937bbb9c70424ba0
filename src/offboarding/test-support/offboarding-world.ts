// A rotation world (src/lifecycle/rotation/test-support/rotation-fixture.ts) with a leaver in it, and the
// offboarding workflow over it: for the workflow's and reconciliation's tests.
import type { TestBackend } from '../../db/test-support/test-databases.js';
import type { DirectoryPerson, IdentitySource } from '../../directory/identity-source.js';
import { KeyRevoker } from '../../lifecycle/key-revocation.js';
import { RevocationJournal } from '../../lifecycle/revocation-journal.js';
import { RotationScheduler } from '../../lifecycle/rotation/rotation-scheduler.js';
import { createRotationWorld, type RotationWorld } from '../../lifecycle/rotation/test-support/rotation-fixture.js';
import { defaultRegistryConfig } from '../../registry/registry-config.js';
import { loadRegistry } from '../../registry/registry-loader.js';
import { systemClock } from '../../runtime/clock.js';
import { type OffboardingDependencies, OffboardingWorkflow } from '../offboarding-workflow.js';
import { sharedOwnerPolicy } from '../shared-owner.js';

export const alice: DirectoryPerson = {
  id: 'p-alice',
  email: 'alice@example.com',
  team: 'payments',
  status: 'deprovisioned',
  source: 'scim',
};
/** Records the sessions it was asked to end: the workflow's view of an identity provider. */
export function recordingSource(name: string): IdentitySource & { revoked: string[] } {
  const revoked: string[] = [];
  return {
    name,
    revoked,
    async *listPeople() {},
    async revokeSessions(person) {
      revoked.push(person.email);
      return { revoked: true, detail: `sessions of ${person.email} ended` };
    },
  };
}

/** The workflow over a world, with the given identity sources (default: one recording source named okta). */
export function workflowOver(
  world: RotationWorld,
  overrides: Partial<OffboardingDependencies> = {},
  source: IdentitySource & { revoked?: string[] } = recordingSource('okta'),
) {
  const config = defaultRegistryConfig();
  const rotator = world.rotator();
  const scheduler = new RotationScheduler({ rotator, providers: world.providers, clock: systemClock });
  const workflow = new OffboardingWorkflow({
    db: world.operational.db,
    events: world.events,
    clock: systemClock,
    loadEntries: async () =>
      (await loadRegistry({ root: world.root, config, applyPolicy: false, includeEntries: true, now: new Date() }))
        .entries,
    writer: world.writer,
    rotations: {
      run: (due, options) => scheduler.run(due, options),
      doneSince: async (keyId, since) =>
        (await world.journal.list({ keyId, states: ['done'] })).find(
          (row) => row.trigger === 'owner-left' && row.created_at >= since,
        )?.rotation_id,
    },
    revoke: (request) =>
      new KeyRevoker({
        providers: world.providers,
        stores: () => world.store,
        writer: world.writer,
        events: world.events,
        journal: new RevocationJournal(world.operational.db, systemClock),
      }).revoke(request),
    identitySources: [source],
    sharedOwners: sharedOwnerPolicy(config),
    ...overrides,
  });
  return { workflow, source };
}

/** A rotation world with three keys of Alice's team that she owns, and her own personal credential. */
export async function aliceWorld(backend: TestBackend): Promise<RotationWorld> {
  const world = await createRotationWorld({ operational: await backend.open(), keys: 3 });
  // Her own credential at the provider (account = her login), used by nothing else: revoked, not rotated.
  await world.issuer.issue({
    provider: 'internal',
    team: 'payments',
    owner: alice.email,
    purpose: 'alice personal testing key',
    permissions: ['orders:read'],
    account: 'alice',
    keyId: 'alice-personal-internal-key',
    store: { name: 'default', path: 'team/alice-personal' },
    rotationFrequencyDays: 30,
    actor: 'test',
  });
  return world;
}
