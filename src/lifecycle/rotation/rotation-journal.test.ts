// The rotation journal on both engines: writes made at the same moment share one transaction (group commit) and
// each still sees its own result; the compare-and-set on (state, lease owner) holds inside a group; a failing
// write in a group (a second open rotation for a key) does not take the others down with it; leases.
import { hostname } from 'node:os';
import { expect, it } from 'vitest';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { verifyEventChain } from '../../events/event-chain-verifier.js';
import { EventLog } from '../../events/event-log.js';
import { systemClock } from '../../runtime/clock.js';
import { newLeaseOwner, RotationJournal } from './rotation-journal.js';

const input = (keyId: string) => ({
  keyId,
  provider: 'internal',
  account: 'svc',
  trigger: 'schedule' as const,
  store: 'default',
  path: `team/${keyId}`,
});
const started = (keyId: string) => ({ type: 'rotation_started', actor: 'test', keyId, data: { provider: 'internal' } });

forEachBackend((backend) => {
  it('commits writes made together in one transaction, each with its own result and event', async () => {
    const store = await backend.open();
    const events = new EventLog(store.db, systemClock);
    const journal = new RotationJournal(store.db, systemClock, events);
    const owner = newLeaseOwner();
    const keys = Array.from({ length: 20 }, (_, index) => `group-key-${index}`);
    const planned = await Promise.all(keys.map((keyId) => journal.plan(input(keyId), started(keyId))));
    expect(planned.every((p) => p.created)).toBe(true);
    const claimed = await Promise.all(planned.map((p) => journal.claim(p.row.rotation_id, owner, 60_000)));
    expect(claimed.every((row) => row?.lease_owner === owner)).toBe(true);
    const advanced = await Promise.all(
      claimed.map((row, index) =>
        journal.advance(
          row!,
          'minting',
          {},
          {
            owner,
            leaseMs: 60_000,
            ...(index % 2 === 0 ? { event: { type: 'rotation.test', actor: 'test', keyId: row!.key_id } } : {}),
          },
        ),
      ),
    );
    expect(advanced.map((row) => row.state)).toEqual(keys.map(() => 'minting'));
    expect(journal.groupStats.writes).toBe(60);
    expect(journal.groupStats.transactions).toBeLessThan(20);
    expect((await journal.countByState()).minting).toBe(20);
    expect((await events.list({ type: 'rotation_started' })).length).toBe(20);
    const tested = await events.list({ type: 'rotation.test' });
    expect(tested.map((event) => event.keyId).sort()).toEqual(keys.filter((_, index) => index % 2 === 0).sort());
    expect(tested.every((event) => typeof event.data.rotation_id === 'string')).toBe(true);
    expect((await verifyEventChain(store.db)).ok).toBe(true);
  });

  it('a second plan for a key joins the open rotation, without failing the writes grouped with it', async () => {
    const store = await backend.open();
    const journal = new RotationJournal(store.db, systemClock, new EventLog(store.db, systemClock));
    const first = await journal.plan(input('open-key'), started('open-key'));
    const [again, other, third] = await Promise.all([
      journal.plan(input('open-key'), started('open-key')),
      journal.plan(input('other-key'), started('other-key')),
      journal.plan(input('third-key')),
    ]);
    expect(again).toEqual({ row: expect.objectContaining({ rotation_id: first.row.rotation_id }), created: false });
    expect(other.created).toBe(true);
    expect(third.created).toBe(true);
    expect((await journal.unfinished()).map((row) => row.key_id).sort()).toEqual([
      'open-key',
      'other-key',
      'third-key',
    ]);
  });

  it('refuses to plan away a provider key that a finished rotation already replaced (an entry read too early)', async () => {
    const store = await backend.open();
    const journal = new RotationJournal(store.db, systemClock, new EventLog(store.db, systemClock));
    const first = await journal.plan({ ...input('replaced-key'), oldProviderKeyId: 'pk-old' });
    // The first rotation finished: pk-old was replaced by pk-new (the state written directly: the steps are
    // key-rotator's, tested there).
    await store.db
      .updateTable('rotation_journal')
      .set({ state: 'done', new_provider_key_id: 'pk-new' })
      .where('rotation_id', '=', first.row.rotation_id)
      .execute();
    await expect(journal.plan({ ...input('replaced-key'), oldProviderKeyId: 'pk-old' })).rejects.toMatchObject({
      code: 'E_ROTATION_KEY_ALREADY_REPLACED',
    });
    expect((await journal.replacedBy('replaced-key', 'pk-old'))?.rotation_id).toBe(first.row.rotation_id);
    expect(await journal.unfinished()).toEqual([]);
    // The entry as it reads now (the new key) rotates as usual.
    const next = await journal.plan({ ...input('replaced-key'), oldProviderKeyId: 'pk-new' });
    expect(next.created).toBe(true);
  });

  it('keeps the compare-and-set: a write by a worker that lost the lease fails, the others in its group succeed', async () => {
    const store = await backend.open();
    const journal = new RotationJournal(store.db, systemClock);
    const owner = newLeaseOwner();
    const rows = await Promise.all(
      ['cas-a', 'cas-b'].map(async (keyId) =>
        journal.claim((await journal.plan(input(keyId))).row.rotation_id, owner, 60_000),
      ),
    );
    const results = await Promise.allSettled([
      journal.advance(rows[0]!, 'minting', {}, { owner, leaseMs: 60_000 }),
      journal.advance(rows[1]!, 'minting', {}, { owner: 'someone-else', leaseMs: 60_000 }),
    ]);
    expect(results[0].status).toBe('fulfilled');
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: 'E_ROTATION_LEASE_LOST' } });
    expect((await journal.get(rows[1]!.rotation_id))!.state).toBe('planned');
  });

  it('leases: free or expired rows are taken, a live holder keeps its row, a dead holder on this host loses it', async () => {
    const store = await backend.open();
    const journal = new RotationJournal(store.db, systemClock);
    const me = newLeaseOwner();
    const { row } = await journal.plan(input('lease-key'));
    expect((await journal.claim(row.rotation_id, me, 60_000))?.lease_owner).toBe(me);
    expect((await journal.claim(row.rotation_id, me, 60_000))?.lease_owner).toBe(me);
    // A live holder: this very process under another owner label.
    const live = `${hostname()}:${process.ppid}:-:other`;
    await store.db.updateTable('rotation_journal').set({ lease_owner: live }).execute();
    expect(await journal.claim(row.rotation_id, me, 60_000)).toBeUndefined();
    // The same holder, its lease run out.
    await store.db
      .updateTable('rotation_journal')
      .set({ lease_expires_at: new Date(Date.now() - 1_000).toISOString() })
      .execute();
    expect((await journal.claim(row.rotation_id, me, 60_000))?.lease_owner).toBe(me);
    // A dead holder with a lease still running.
    await store.db
      .updateTable('rotation_journal')
      .set({ lease_owner: `${hostname()}:999999:dead`, lease_expires_at: new Date(Date.now() + 60_000).toISOString() })
      .execute();
    expect((await journal.claim(row.rotation_id, me, 60_000))?.lease_owner).toBe(me);
    await journal.release(row.rotation_id, me);
    expect((await journal.get(row.rotation_id))!.lease_owner).toBeNull();
    // A finished rotation is never claimed.
    const claimed = (await journal.claim(row.rotation_id, me, 60_000))!;
    await journal.advance(claimed, 'failed', { failure: 'test' }, { owner: me, leaseMs: 60_000 });
    expect(await journal.claim(row.rotation_id, me, 60_000)).toBeUndefined();
  });
});
