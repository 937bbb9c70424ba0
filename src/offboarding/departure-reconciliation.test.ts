// Reconciliation on both engines: a person Okta shows as DEPROVISIONED while the directory still has them active
// (the signal never reached us) is applied to the directory as a reconcile signal and offboarded through the
// departure listener, sessions revoked at Okta's sandbox; a dry run changes nothing; a second run finds nothing;
// a directory change newer than the provider's is a conflict, left alone; an owner nobody knows is listed.
import { afterEach, expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { OktaIdentitySource } from '../idp/okta/okta-identity-source.js';
import { type OutboundIdpSandboxes, startOutboundIdpSandboxes } from '../idp/test-support/outbound-idp-sandboxes.js';
import type { RotationWorld } from '../lifecycle/rotation/test-support/rotation-fixture.js';
import { defaultRegistryConfig } from '../registry/registry-config.js';
import { loadRegistry } from '../registry/registry-loader.js';
import { systemClock } from '../runtime/clock.js';
import { reconcileDepartures } from './departure-reconciliation.js';
import { MemoryDirectory } from './memory-directory.js';
import { sharedOwnerPolicy } from './shared-owner.js';
import { alice, aliceWorld, workflowOver } from './test-support/offboarding-world.js';

let world: RotationWorld | undefined;
let idps: OutboundIdpSandboxes | undefined;
afterEach(async () => {
  await world?.stop();
  await idps?.stop();
  world = undefined;
  idps = undefined;
});

const people = [
  { email: alice.email, name: 'Alice Example', login: 'alice', status: 'left' as const },
  { email: 'bob@example.com', name: 'Bob Example', login: 'bob', status: 'active' as const },
];

forEachBackend((backend) => {
  it('offboards a person a provider shows as gone whose signal never came', async () => {
    world = await aliceWorld(backend);
    idps = await startOutboundIdpSandboxes(people);
    const okta = new OktaIdentitySource(idps.options.okta as { orgUrl: string; token: string });
    const { workflow } = workflowOver(world, { identitySources: [okta] });
    const directory = new MemoryDirectory(
      people.map((person) => ({
        id: person.login,
        email: person.email,
        team: 'payments',
        status: 'active' as const,
        statusChangedAt: '2025-01-01T00:00:00.000Z',
        source: 'hr-file',
      })),
    );
    directory.onDeparture(workflow.onDeparture);
    const config = defaultRegistryConfig();
    const entries = async () =>
      (await loadRegistry({ root: world!.root, config, applyPolicy: false, includeEntries: true, now: new Date() }))
        .entries;
    const input = {
      directory,
      sources: [okta],
      workflow,
      isSharedOwner: sharedOwnerPolicy(config).isShared,
      clock: systemClock,
    };

    const dry = await reconcileDepartures({ ...input, entries: await entries(), dryRun: true });
    expect(dry.missedSignals).toEqual([{ email: alice.email, source: 'okta', status: 'deprovisioned' }]);
    expect(await workflow.jobs.list()).toEqual([]);
    expect((await directory.find(alice.email))?.status).toBe('active');

    const report = await reconcileDepartures({ ...input, entries: await entries() });
    expect(report.offboarded).toEqual([{ email: alice.email, state: 'done' }]);
    expect((await directory.find(alice.email))?.source).toBe('reconcile');
    expect(idps.okta.sandbox.people.revocations.map((r) => r.email)).toEqual([alice.email]);
    for (const { entry } of await entries())
      if (entry.status !== 'revoked') expect(entry.owner_individual).toBe('payments-shared@example.com');
    expect(report.unknownOwners).toEqual([]);

    const again = await reconcileDepartures({ ...input, entries: await entries() });
    expect(again.missedSignals).toEqual([]);
    expect(again.offboarded).toEqual([]);
  });
});

it('leaves a newer directory change alone and lists owners nobody knows', async () => {
  idps = await startOutboundIdpSandboxes(people);
  const okta = new OktaIdentitySource(idps.options.okta as { orgUrl: string; token: string });
  // Alice was rehired after Okta deprovisioned her; Okta's change time is older than the directory's.
  const listed = okta.listPeople();
  const withTime = {
    name: 'okta',
    async *listPeople() {
      for await (const person of listed) yield { ...person, statusChangedAt: '2024-01-01T00:00:00.000Z' };
    },
  };
  const directory = new MemoryDirectory([
    {
      id: 'alice',
      email: alice.email,
      status: 'active',
      statusChangedAt: '2025-06-01T00:00:00.000Z',
      source: 'hr-file',
    },
  ]);
  const report = await reconcileDepartures({
    directory,
    sources: [withTime],
    entries: [
      {
        file: 'keys/x.yaml',
        entry: { key_id: 'x', owner_individual: 'stranger@example.com', status: 'active' },
      } as never,
    ],
    // Not reached: nothing to offboard.
    workflow: { jobs: { get: async () => undefined } } as never,
    clock: systemClock,
  });
  expect(report.conflicts.map((c) => c.email)).toEqual([alice.email]);
  expect(report.missedSignals).toEqual([]);
  expect(report.unknownOwners).toEqual([{ email: 'stranger@example.com', keys: ['x'] }]);
});
