// Several replicas on one key (issue 19 item 2): a rotation worker that paused past its lease, or whose database
// connection was cut (pg_terminate_backend), is fenced when it wakes — another replica took the key over and
// finished, and the stale worker mints, promotes and revokes nothing; a revoke and a rotation of one key never
// interleave. Replicas name other hosts, so the same-host dead-process check never helps (docs/rotation.md,
// "Several replicas: leases and fencing").
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { OperationalStore } from '../../db/operational-store.js';
import { createTestBackend, forEachBackend, testPostgresAdminUrl } from '../../db/test-support/test-databases.js';
import { EventLog } from '../../events/event-log.js';
import { fixedClock } from '../../runtime/clock.js';
import { RotationJournal } from './rotation-journal.js';
import { Gate, newTally, replicaOf } from './test-support/fencing-replicas.js';
import { createRotationWorld, type RotationWorld } from './test-support/rotation-fixture.js';

const worlds: RotationWorld[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((world) => world.stop()));
});

async function world(operational: OperationalStore, clock: ReturnType<typeof fixedClock>) {
  const created = await createRotationWorld({ operational, keys: 1, clock });
  worlds.push(created);
  return created;
}

/** Live keys of the key's account at the provider, and what the registry entry names. */
async function liveKeys(w: RotationWorld, keyId: string) {
  const entry = (await w.writer.read(keyId))!.entry;
  const live: string[] = [];
  for await (const key of w.provider.list({ account: entry.scope!.account_id! }))
    if (key.status === 'active') live.push(key.providerKeyId);
  return { entry, live };
}

async function untilState(w: RotationWorld, keyId: string, state: string): Promise<void> {
  for (let tries = 0; tries < 500; tries++) {
    if ((await w.journal.openForKey(keyId))?.state === state) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${keyId} never reached ${state}`);
}

forEachBackend((backend) => {
  it('a paused holder: A sleeps past its lease before promoting, B takes over and finishes, A wakes and is fenced', async () => {
    const clock = fixedClock('2026-12-07T12:00:00Z');
    const w = await world(await backend.open(), clock);
    const keyId = w.keyIds[0]!;
    const oldKey = (await liveKeys(w, keyId)).entry.provider_key_id!;
    const tally = newTally();
    const paused = new Gate();
    paused.arm();
    const a = replicaOf(w, 'replica-a', tally, {
      journal: new RotationJournal(w.operational.db, clock, w.events),
      promoteGate: paused,
    });
    const b = replicaOf(w, 'replica-b', tally);
    const runningA = a.rotator.rotate(keyId, 'manual');
    // A has seen its pending version and is about to promote: the intent `verified` is in the journal.
    await paused.reached;
    expect((await w.journal.openForKey(keyId))!.state).toBe('verified');
    // B, while A's lease holds, cannot take the key.
    expect((await b.rotator.resumeAll()).map((outcome) => outcome.status)).toEqual(['busy']);
    // A sleeps past its lease (clock-driven); B takes the key over (the token grows) and finishes the rotation.
    clock.advance(a.rotator.options.leaseMs + 1);
    expect((await b.rotator.resumeAll({ waitForRetries: true })).map((outcome) => outcome.status)).toEqual(['done']);
    paused.release();
    expect(await runningA).toMatchObject({ status: 'busy' });
    expect(tally.count('replica-a', 'promote')).toBe(0);
    expect(tally.count('replica-a', 'revoke')).toBe(0);
    expect(tally.count('replica-b', 'promote')).toBe(1);
    expect(tally.count(undefined, 'mint', keyId)).toBe(1);
    expect(tally.count(undefined, 'revoke', oldKey)).toBe(1);
    const { entry, live } = await liveKeys(w, keyId);
    expect(live).toEqual([entry.provider_key_id]);
    const [row] = await w.journal.list({ keyId });
    expect(row).toMatchObject({ state: 'done', new_provider_key_id: entry.provider_key_id, fence_token: 2 });
  });

  it('revoke vs rotate: a revoke is refused while a rotation holds the key, and runs once it is done', async () => {
    const clock = fixedClock('2026-12-07T12:00:00Z');
    const w = await world(await backend.open(), clock);
    const keyId = w.keyIds[0]!;
    const tally = newTally();
    const a = replicaOf(w, 'replica-a', tally);
    const b = replicaOf(w, 'replica-b', tally);
    w.consumer.setFrozen(keyId, true);
    const runningA = a.rotator.rotate(keyId, 'manual');
    await untilState(w, keyId, 'stored');
    await expect(b.revoker.revoke({ keyId, actor: 'test' })).rejects.toMatchObject({ code: 'E_KEY_BUSY' });
    expect(tally.count('replica-b', 'revoke')).toBe(0);
    w.consumer.setFrozen(keyId, false);
    expect(await runningA).toMatchObject({ status: 'done' });
    const revoked = await b.revoker.revoke({ keyId, actor: 'test' });
    expect(revoked.providerKeyId).toBe((await liveKeys(w, keyId)).entry.provider_key_id);
    const { entry, live } = await liveKeys(w, keyId);
    expect(entry.status).toBe('revoked');
    expect(live).toEqual([]);
  });

  it('rotate vs revoke: a rotation cannot claim a key a revoke holds, and then rolls back minting nothing', async () => {
    const clock = fixedClock('2026-12-07T12:00:00Z');
    const w = await world(await backend.open(), clock);
    const keyId = w.keyIds[0]!;
    const tally = newTally();
    const inRevoke = new Gate();
    inRevoke.arm();
    const a = replicaOf(w, 'replica-a', tally);
    const b = replicaOf(w, 'replica-b', tally, { revokeGate: inRevoke });
    const revoking = b.revoker.revoke({ keyId, actor: 'test' });
    await inRevoke.reached;
    const busy = await a.rotator.rotate(keyId, 'leak');
    expect(busy.status).toBe('busy');
    inRevoke.release();
    await revoking;
    const rotationId = (await w.journal.openForKey(keyId))!.rotation_id;
    const after = await a.rotator.drive(rotationId, { waitForRetries: true });
    expect(after).toMatchObject({ status: 'rolled-back', row: { rollback_reason: 'key_not_active' } });
    expect(tally.count(undefined, 'mint')).toBe(0);
    const { entry, live } = await liveKeys(w, keyId);
    expect(entry.status).toBe('revoked');
    expect(live).toEqual([]);
  });
});

describe('postgres: a replica cut off mid-rotation (pg_terminate_backend)', () => {
  const postgres = createTestBackend('postgres');
  afterAll(() => postgres.cleanup());

  it('A is cut off after its intent, B takes over after the lease and finishes, A reconnects and is refused by the fence', async () => {
    const clock = fixedClock('2026-12-07T12:00:00Z');
    const database = await postgres.createDatabase();
    const w = await world(await database.open(), clock);
    const keyId = w.keyIds[0]!;
    const oldKey = (await liveKeys(w, keyId)).entry.provider_key_id!;
    // Replica A: its own connection pool, recognisable on the server by its application name.
    const url = new URL(database.options.databaseUrl!);
    url.searchParams.set('application_name', 'keyledger-replica-a');
    const storeA = await database.open({ databaseUrl: url.toString(), migrate: false, poolSize: 2 });
    const tally = newTally();
    const cut = new Gate();
    cut.arm();
    const a = replicaOf(w, 'replica-a', tally, {
      journal: new RotationJournal(storeA.db, clock, new EventLog(storeA.db, clock)),
      promoteGate: cut,
    });
    const b = replicaOf(w, 'replica-b', tally);
    const runningA = a.rotator.rotate(keyId, 'manual');
    await cut.reached;
    expect((await w.journal.openForKey(keyId))!.state).toBe('verified');
    // The partition: A's backends are killed from another connection while A is inside the promote step.
    const admin = new pg.Client({ connectionString: testPostgresAdminUrl() });
    await admin.connect();
    try {
      // Only this test's database: the server is shared with other test files (and other checkouts' runs) that
      // may run this very test at the same time.
      const killed = await admin.query(
        `select pg_terminate_backend(pid) as killed from pg_stat_activity where application_name = 'keyledger-replica-a' and datname = $1`,
        [url.pathname.slice(1)],
      );
      expect(killed.rows.length).toBeGreaterThan(0);
      expect(killed.rows.every((row: { killed: boolean }) => row.killed)).toBe(true);
    } finally {
      await admin.end();
    }
    // A's lease runs out; B takes the key over and finishes.
    clock.advance(a.rotator.options.leaseMs + 1);
    expect((await b.rotator.resumeAll({ waitForRetries: true })).map((outcome) => outcome.status)).toEqual(['done']);
    // A comes back: its pool reconnects, and its next attempt is refused by the fence.
    cut.release();
    expect(await runningA).toMatchObject({ status: 'busy' });
    expect(Number((await storeA.db.selectFrom('key_locks').select('token').executeTakeFirstOrThrow()).token)).toBe(2);
    const rotationId = (await w.journal.list({ keyId }))[0]!.rotation_id;
    expect(await a.rotator.drive(rotationId)).toMatchObject({ status: 'done' });
    expect(tally.count('replica-a', 'promote')).toBe(0);
    expect(tally.count('replica-a', 'revoke')).toBe(0);
    expect(tally.count(undefined, 'mint', keyId)).toBe(1);
    expect(tally.count(undefined, 'revoke', oldKey)).toBe(1);
    // No key left live that no journal row accounts for.
    const { entry, live } = await liveKeys(w, keyId);
    expect(live).toEqual([entry.provider_key_id]);
    expect((await w.journal.list({ keyId }))[0]).toMatchObject({
      state: 'done',
      new_provider_key_id: entry.provider_key_id,
    });
    await w.consumer.callAll();
    expect(w.consumer.stats().failureLog).toEqual([]);
  });
});
