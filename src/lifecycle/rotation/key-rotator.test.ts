// The rotation state machine on both engines, against the internal provider, the embedded store, a git registry
// and a live sandbox consumer: the happy path, the failure modes that roll back (docs/rotation.md), and resume after a
// crash in every state (the lease left held by a dead process).
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { runGit } from '../../git/git-command.js';
import { GIT_TEST_ENV } from '../../registry/test-support/registry-fixtures.js';
import { fixedClock, systemClock } from '../../runtime/clock.js';
import { RegistryRotationBatcher } from './registry-rotation-batcher.js';
import { RotationScheduler } from './rotation-scheduler.js';
import { ROTATION_STATES, type RotationState } from './rotation-states.js';
import { createRotationWorld, type RotationWorld } from './test-support/rotation-fixture.js';

const worlds: RotationWorld[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((world) => world.stop()));
});

async function world(
  open: () => Promise<import('../../db/operational-store.js').OperationalStore>,
  options: Parameters<typeof createRotationWorld>[0] extends infer O ? Omit<O, 'operational'> : never = {},
) {
  const created = await createRotationWorld({ operational: await open(), keys: 1, ...options });
  worlds.push(created);
  return created;
}

/** The facts the crash test checks, for one key. */
async function keyFacts(w: RotationWorld, keyId: string) {
  const entry = (await w.writer.read(keyId))!.entry;
  const current = await w.store.get(`team/${keyId}`, 'current');
  const pending = await w.store.get(`team/${keyId}`, 'pending');
  const verified = current ? await w.provider.verify(current.value) : { valid: false };
  const live: string[] = [];
  for await (const key of w.provider.list({ account: entry.scope!.account_id! }))
    if (key.status === 'active') live.push(key.providerKeyId);
  return { entry, current, pending, verified, live };
}

forEachBackend((backend) => {
  const open = () => backend.open();

  it('rotates: new key current and working, old key revoked, registry updated in one commit, consumer never failed', async () => {
    const clock = fixedClock('2026-11-23T12:00:00Z');
    const w = await world(open, { clock });
    clock.advance(86_400_000);
    const keyId = w.keyIds[0]!;
    const before = await keyFacts(w, keyId);
    const commitsBefore = Number(
      (await runGit(['rev-list', '--count', 'HEAD'], { cwd: w.root, env: GIT_TEST_ENV })).trim(),
    );
    const outcome = await w.rotator().rotate(keyId, 'manual');
    expect(outcome.status).toBe('done');
    const after = await keyFacts(w, keyId);
    expect(after.verified.valid).toBe(true);
    expect(after.pending).toBeNull();
    expect(after.live).toEqual([after.entry.provider_key_id]);
    expect(after.entry.provider_key_id).not.toBe(before.entry.provider_key_id);
    expect(after.entry.provider_key_id).toBe(after.current!.metadata.provider_key_id);
    expect(after.entry.fingerprint).not.toBe(before.entry.fingerprint);
    expect(after.entry.last_rotated).toBe('2026-11-24T12:00:00Z');
    expect(before.entry.last_rotated).toBe('2026-11-23T12:00:00Z');
    expect(Number((await runGit(['rev-list', '--count', 'HEAD'], { cwd: w.root, env: GIT_TEST_ENV })).trim())).toBe(
      commitsBefore + 1,
    );
    await w.consumer.callAll();
    expect(w.consumer.stats().failureLog).toEqual([]);
    expect(await w.metrics.value('api_key_rotation_success_total', { provider: 'internal' })).toBe(1);
    const types = (await w.events.list({ keyId })).map((event) => event.type);
    expect(types).toEqual(expect.arrayContaining(['rotation_started', 'rotated']));
    // Radioactive: the new secret appears in no journal row, event or commit.
    const secret = after.current!.value.reveal();
    const journalText = JSON.stringify(await w.journal.list({ keyId }));
    const eventText = JSON.stringify(await w.events.list({ limit: 1000 }));
    const gitText = await runGit(['log', '-p', '--all'], { cwd: w.root, env: GIT_TEST_ENV });
    for (const text of [journalText, eventText, gitText]) expect(text).not.toContain(secret);
  });

  it('a second rotate while one is open joins it instead of starting another', async () => {
    const w = await world(open);
    const rotator = w.rotator();
    const first = await rotator.plan(w.keyIds[0]!, 'manual');
    const second = await rotator.plan(w.keyIds[0]!, 'schedule');
    expect(second.created).toBe(false);
    expect(second.row.rotation_id).toBe(first.row.rotation_id);
    expect((await rotator.drive(first.row.rotation_id, { waitForRetries: true })).status).toBe('done');
  });

  it('a plan decided on an older read of the entry (its key replaced since) plans nothing: no second rotation', async () => {
    const w = await world(open);
    const rotator = w.rotator();
    const keyId = w.keyIds[0]!;
    const seen = String((await w.writer.read(keyId))!.entry.provider_key_id);
    // While the due finding waits, the key's rotation is open: a plan with the old read joins it...
    const first = await rotator.plan(keyId, 'schedule');
    expect(await rotator.plan(keyId, 'schedule', { expectedProviderKeyId: seen })).toMatchObject({ created: false });
    // ...and once that rotation is done, the same finding is refused rather than rotating the new key again.
    expect((await rotator.drive(first.row.rotation_id, { waitForRetries: true })).status).toBe('done');
    await expect(rotator.plan(keyId, 'schedule', { expectedProviderKeyId: seen })).rejects.toMatchObject({
      code: 'E_ROTATION_ENTRY_MOVED',
    });
    expect(await w.journal.unfinished()).toEqual([]);
    // A plan made from the entry as it reads now goes ahead.
    const now = String((await w.writer.read(keyId))!.entry.provider_key_id);
    expect(await rotator.plan(keyId, 'schedule', { expectedProviderKeyId: now })).toMatchObject({ created: true });
  });

  it('synthetic test gives false-pass: the provider accepts the new key but the consumer code path fails -> rolled back, old key works', async () => {
    const w = await world(open, { permissions: ['orders:read', 'orders:write'] });
    const keyId = w.keyIds[0]!;
    const before = await keyFacts(w, keyId);
    // A policy change narrows the scope: the new key would identify fine but lacks what the service needs.
    await w.writer.update(keyId, { scope: { permissions: ['orders:read'] } });
    const outcome = await w.rotator().rotate(keyId, 'policy');
    expect(outcome.status).toBe('rolled-back');
    if (outcome.status !== 'rolled-back') return;
    expect(outcome.row.rollback_reason).toBe('consumer_check_failed');
    const after = await keyFacts(w, keyId);
    expect(after.current!.versionId).toBe(before.current!.versionId);
    expect(after.verified.valid).toBe(true);
    expect(after.pending).toBeNull();
    expect(after.live).toEqual([before.entry.provider_key_id]);
    await w.consumer.callAll();
    expect(w.consumer.stats().failureLog).toEqual([]);
    expect(await w.metrics.value('api_key_rotation_failure_total', { reason: 'consumer_check_failed' })).toBe(1);
  });

  it('a consumer that never picks the new key up: confirmation times out, rolled back, nothing revoked that it uses', async () => {
    const w = await world(open);
    const keyId = w.keyIds[0]!;
    const before = await keyFacts(w, keyId);
    w.consumer.setFrozen(keyId, true);
    const outcome = await w.rotator({ options: { confirmTimeoutMs: 300 } }).rotate(keyId, 'schedule');
    expect(outcome.status).toBe('rolled-back');
    if (outcome.status === 'rolled-back') expect(outcome.row.rollback_reason).toBe('consumers_not_confirmed');
    const after = await keyFacts(w, keyId);
    expect(after.live).toEqual([before.entry.provider_key_id]);
    expect(after.current!.versionId).toBe(before.current!.versionId);
    await w.consumer.callAll();
    expect(w.consumer.stats().failureLog).toEqual([]);
  });

  it('bulk: the scheduler rotates many keys at once and the batcher records them in a few commits', async () => {
    const w = await world(open, { keys: 6 });
    const commitsBefore = Number(
      (await runGit(['rev-list', '--count', 'HEAD'], { cwd: w.root, env: GIT_TEST_ENV })).trim(),
    );
    const batcher = new RegistryRotationBatcher({
      writer: w.writer,
      root: w.root,
      gitEnv: GIT_TEST_ENV,
      lingerMs: 100,
    });
    const rotator = w.rotator({ recordInRegistry: (record) => batcher.record(record) });
    const due = await w.dueNow(w.keyIds);
    const report = await new RotationScheduler({ rotator, providers: w.providers, clock: systemClock }).run(due);
    expect(report).toMatchObject({ done: 6, rolledBack: 0, failed: 0, deferred: 0, errors: [] });
    const commits =
      Number((await runGit(['rev-list', '--count', 'HEAD'], { cwd: w.root, env: GIT_TEST_ENV })).trim()) -
      commitsBefore;
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(commits).toBeLessThan(6);
    for (const keyId of w.keyIds) {
      const facts = await keyFacts(w, keyId);
      expect(facts.current!.metadata.provider_key_id).toBe(facts.entry.provider_key_id);
      expect(facts.live).toEqual([facts.entry.provider_key_id]);
    }
    expect((await runGit(['status', '--porcelain'], { cwd: w.root, env: GIT_TEST_ENV })).trim()).toBe('');
  });

  describe('resume after a crash', () => {
    const crashStates = ROTATION_STATES.filter(
      (state) => !['done', 'rolled-back', 'failed', 'rolling-back'].includes(state),
    ) as RotationState[];
    for (const state of crashStates) {
      it(`finishes a rotation that died in ${state} with exactly one working current key and no extra provider key`, async () => {
        const w = await world(open);
        const keyId = w.keyIds[0]!;
        const crashed = await w.rotator().rotate(keyId, 'manual', { haltAt: state });
        expect(crashed.status).toBe('interrupted');
        // The dead process still "holds" the lease: a pid that does not exist on this host.
        await w.operational.db
          .updateTable('rotation_journal')
          .set({ lease_owner: `${hostname()}:999999:dead` })
          .execute();
        const outcomes = await w.rotator().resumeAll({ waitForRetries: true });
        expect(outcomes.map((o) => o.status)).toEqual(['done']);
        const after = await keyFacts(w, keyId);
        expect(after.verified.valid).toBe(true);
        expect(after.live).toEqual([after.entry.provider_key_id]);
        expect(after.current!.metadata.provider_key_id).toBe(after.entry.provider_key_id);
        expect(await w.journal.unfinished()).toEqual([]);
      });
    }

    it('a key minted just before the crash, whose answer was never recorded, is found by name and revoked, not kept', async () => {
      const w = await world(open);
      const keyId = w.keyIds[0]!;
      const crashed = await w.rotator().rotate(keyId, 'manual', { haltAt: 'minting' });
      if (crashed.status !== 'interrupted') throw new Error('expected interrupted');
      const orphan = await w.provider.create({ name: crashed.row.new_key_name, account: crashed.row.account! });
      await w.operational.db
        .updateTable('rotation_journal')
        .set({ lease_owner: `${hostname()}:999999:dead` })
        .execute();
      expect((await w.rotator().resumeAll({ waitForRetries: true })).map((o) => o.status)).toEqual(['done']);
      const after = await keyFacts(w, keyId);
      expect(after.live).toEqual([after.entry.provider_key_id]);
      expect(after.live).not.toContain(orphan.providerKeyId);
      expect((await w.events.list({ type: 'rotation.orphan_revoked' })).length).toBe(1);
    });

    it('a live worker keeps its rotation: a resumer does not take a lease held by a running process', async () => {
      const w = await world(open);
      const crashed = await w.rotator().rotate(w.keyIds[0]!, 'manual', { haltAt: 'stored' });
      expect(crashed.status).toBe('interrupted');
      expect((await w.rotator().resumeAll()).map((o) => o.status)).toEqual(['busy']);
    });
  });
});
