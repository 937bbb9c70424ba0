// The offboarding workflow over a real rotation world on both engines (a git registry, the internal provider, the
// embedded store, a consumer using the keys): a leaver's keys are reassigned one commit each, rotated with trigger
// owner-left with their consumer confirming, a personal credential nothing uses is revoked, sessions are ended;
// a repeated signal changes nothing; a run that stopped half-way finishes on resume without repeating a step.
import { execFileSync } from 'node:child_process';
import { afterEach, expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import type { RotationWorld } from '../lifecycle/rotation/test-support/rotation-fixture.js';
import { GIT_TEST_ENV } from '../registry/test-support/registry-fixtures.js';
import { MemoryDirectory } from './memory-directory.js';
import { renderOffboardingMarkdown } from './offboarding-report.js';
import { alice, aliceWorld, workflowOver } from './test-support/offboarding-world.js';

const signal = {
  signalId: 'sig-1',
  source: 'scim',
  email: alice.email,
  status: 'deprovisioned' as const,
  at: new Date().toISOString(),
};

const commits = (root: string) =>
  Number(execFileSync('git', ['rev-list', '--count', 'HEAD'], { cwd: root, env: GIT_TEST_ENV }).toString().trim());

const reassignCommits = (root: string) =>
  execFileSync('git', ['log', '--format=%B'], { cwd: root, env: GIT_TEST_ENV })
    .toString()
    .split('\n')
    .filter((line) => line.startsWith('offboarding: ')).length;

let world: RotationWorld | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

forEachBackend((backend) => {
  it('reassigns, rotates, disables and ends sessions; the report lists each; a repeated signal changes nothing', async () => {
    world = await aliceWorld(backend);
    const w = world;
    const { workflow, source } = workflowOver(w);
    const before = commits(w.root);
    const report = await workflow.offboard(alice, signal);
    expect(report.state).toBe('done');
    expect(report.counts).toEqual({
      found: 4,
      reassigned: 4,
      rotated: 3,
      disabled: 1,
      left: 0,
      failed: 0,
      sessionsRevoked: 1,
    });
    for (const keyId of w.keyIds) {
      const { entry } = (await w.writer.read(keyId))!;
      expect(entry.owner_individual).toBe('payments-shared@example.com');
      const [rotation] = await w.journal.list({ keyId, states: ['done'] });
      expect(rotation?.trigger).toBe('owner-left');
    }
    expect((await w.writer.read('alice-personal-internal-key'))!.entry.status).toBe('revoked');
    expect(source.revoked).toEqual([alice.email]);
    expect(w.consumer.stats().failures).toBe(0);
    // One commit per reassignment, then the rotations' batch commit(s) and the revocation's.
    expect(commits(w.root) - before).toBeGreaterThanOrEqual(6);
    const markdown = renderOffboardingMarkdown(report);
    for (const keyId of w.keyIds) expect(markdown).toContain(keyId);
    expect((await w.events.list({ type: 'offboarded' })).length).toBe(1);

    const head = commits(w.root);
    const eventCount = (await w.events.list({ limit: 10_000 })).length;
    const again = await workflow.offboard(alice, { ...signal, signalId: 'sig-2' });
    expect(again.counts).toEqual(report.counts);
    expect(commits(w.root)).toBe(head);
    expect((await w.events.list({ limit: 10_000 })).length).toBe(eventCount);
    expect(source.revoked).toEqual([alice.email]);
  });

  it('a run that stopped after the reassignments finishes on resume, without reassigning again', async () => {
    world = await aliceWorld(backend);
    const w = world;
    const { workflow: crashing } = workflowOver(w, {
      rotations: {
        run: async () => {
          throw new Error('killed during the rotations');
        },
        doneSince: async () => undefined,
      },
    });
    const first = await crashing.offboard(alice, signal);
    expect(first.state).toBe('failed');
    expect(first.counts.reassigned).toBe(4);
    expect(first.counts.rotated).toBe(0);
    expect(reassignCommits(w.root)).toBe(4);
    const { workflow } = workflowOver(w);
    const [resumed] = await workflow.resume();
    expect(resumed!.state).toBe('done');
    expect(resumed!.counts.rotated).toBe(3);
    expect(resumed!.counts.reassigned).toBe(4);
    expect((await w.events.list({ type: 'reassigned', limit: 100 })).length).toBe(4);
    expect(reassignCommits(w.root)).toBe(4);
  });

  it('through the directory: duplicate and out-of-order signals start one job and change nothing after', async () => {
    world = await aliceWorld(backend);
    const w = world;
    const { workflow } = workflowOver(w);
    const directory = new MemoryDirectory([
      { ...alice, status: 'active', statusChangedAt: '2026-01-01T00:00:00.000Z' },
    ]);
    directory.onDeparture(workflow.onDeparture);
    const at = new Date().toISOString();
    await directory.apply({ signalId: 'okta-evt-1', source: 'okta', email: alice.email, status: 'suspended', at });
    const head = commits(w.root);
    const events = (await w.events.list({ limit: 10_000 })).length;
    // The same event delivered again, an older "active" arriving late, a later deprovisioning of a suspended person.
    await directory.apply({ signalId: 'okta-evt-1', source: 'okta', email: alice.email, status: 'suspended', at });
    await directory.apply({
      signalId: 'scim-old',
      source: 'scim',
      email: alice.email,
      status: 'active',
      at: '2026-06-01T00:00:00.000Z',
    });
    await directory.apply({
      signalId: 'scim-2',
      source: 'scim',
      email: alice.email,
      status: 'deprovisioned',
      at: new Date(Date.now() + 1000).toISOString(),
    });
    expect(directory.history.map((h) => [h.duplicate, h.stale, h.departed])).toEqual([
      [false, false, true],
      [true, false, false],
      [false, true, false],
      [false, false, false],
    ]);
    expect(await workflow.jobs.list()).toHaveLength(1);
    expect(commits(w.root)).toBe(head);
    expect((await w.events.list({ limit: 10_000 })).length).toBe(events);
  });
});
