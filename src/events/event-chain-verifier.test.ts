// Tampering with the stored log, on both engines, and what verifyEventChain says about it. Each test edits the
// table directly, as someone with database access and no keyledger code would.
import type { Kysely } from 'kysely';
import { expect, it } from 'vitest';
import type { OperationalSchema } from '../db/operational-schema.js';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { fixedClock } from '../runtime/clock.js';
import { hashEvent } from './event-hash.js';
import { EventLog } from './event-log.js';

// Every test starts from an empty log in the suite's one shared store: a database per test would cost more than
// the test itself on PostgreSQL.
async function seededLog(open: () => Promise<{ db: Kysely<OperationalSchema> }>, count = 6) {
  const { db } = await open();
  await db.deleteFrom('events').execute();
  const clock = fixedClock('2026-04-01T10:00:00.000Z');
  const log = new EventLog(db, clock);
  for (let index = 1; index <= count; index += 1) {
    await log.append({
      type: index % 2 ? 'issued' : 'rotated',
      actor: 'alice',
      keyId: `key-${index}`,
      data: { index },
    });
    clock.advance(1_000);
  }
  return { db, log };
}

/** Rewrites rows from `fromSeq` on so each is correctly hashed and chained, as a careful forger would. */
async function rechain(db: Kysely<OperationalSchema>, fromSeq: number) {
  const rows = await db.selectFrom('events').selectAll().orderBy('seq').execute();
  let prev = rows.find((row) => Number(row.seq) === fromSeq - 1)?.hash ?? '0'.repeat(64);
  for (const row of rows.filter((candidate) => Number(candidate.seq) >= fromSeq)) {
    const hash = hashEvent({ ...row, seq: Number(row.seq), data: JSON.parse(row.data), prev_hash: prev });
    await db.updateTable('events').set({ prev_hash: prev, hash }).where('seq', '=', row.seq).execute();
    prev = hash;
  }
}

forEachBackend((backend) => {
  it('passes an intact log and an empty one', async () => {
    const { log } = await seededLog(() => backend.sharedStore());
    const head = await log.head();
    expect(await log.verify()).toEqual({
      ok: true,
      checked: 6,
      head,
      firstBad: null,
      keyedFrom: null,
      anchorsChecked: 0,
    });
    await (await backend.sharedStore()).db.deleteFrom('events').execute();
    expect(await log.verify()).toEqual({
      ok: true,
      checked: 0,
      head: null,
      firstBad: null,
      keyedFrom: null,
      anchorsChecked: 0,
    });
  });

  it('names a row whose data was edited', async () => {
    const { db, log } = await seededLog(() => backend.sharedStore());
    await db.updateTable('events').set({ data: '{"index":33}' }).where('seq', '=', 3).execute();
    expect(await log.verify()).toMatchObject({ ok: false, checked: 2, firstBad: { seq: 3, reason: 'hash_mismatch' } });
  });

  it.each(['at', 'type', 'actor', 'key_id', 'id'] as const)('names a row whose %s was edited', async (column) => {
    const { db, log } = await seededLog(() => backend.sharedStore());
    await db
      .updateTable('events')
      .set({ [column]: column === 'key_id' ? null : 'forged' })
      .where('seq', '=', 4)
      .execute();
    expect((await log.verify()).firstBad).toMatchObject({ seq: 4, reason: 'hash_mismatch' });
  });

  it('names the next row when an edited row was re-hashed but the rest of the chain was not', async () => {
    const { db, log } = await seededLog(() => backend.sharedStore());
    const row = await db.selectFrom('events').selectAll().where('seq', '=', 3).executeTakeFirstOrThrow();
    const data = { index: 33 };
    const hash = hashEvent({ ...row, seq: 3, data });
    await db
      .updateTable('events')
      .set({ data: JSON.stringify(data), hash })
      .where('seq', '=', 3)
      .execute();
    expect((await log.verify()).firstBad).toMatchObject({ seq: 4, reason: 'prev_hash_mismatch' });
  });

  it('names a deleted middle row', async () => {
    const { db, log } = await seededLog(() => backend.sharedStore());
    await db.deleteFrom('events').where('seq', '=', 3).execute();
    expect(await log.verify()).toMatchObject({
      ok: false,
      checked: 2,
      firstBad: { seq: 3, id: null, reason: 'missing_row', message: 'row 3 is missing: the row after 2 is 4' },
    });
  });

  it('names the first renumbered row when a middle row was deleted and the rest moved up', async () => {
    const { db, log } = await seededLog(() => backend.sharedStore());
    await db.deleteFrom('events').where('seq', '=', 3).execute();
    for (const seq of [4, 5, 6])
      await db
        .updateTable('events')
        .set({ seq: seq - 1 })
        .where('seq', '=', seq)
        .execute();
    expect((await log.verify()).firstBad).toMatchObject({ seq: 3, reason: 'hash_mismatch' });
  });

  it('names the displaced row when a forged row is inserted in the middle', async () => {
    const { db, log } = await seededLog(() => backend.sharedStore());
    for (const seq of [6, 5, 4, 3])
      await db
        .updateTable('events')
        .set({ seq: seq + 1 })
        .where('seq', '=', seq)
        .execute();
    const before = await db.selectFrom('events').selectAll().where('seq', '=', 2).executeTakeFirstOrThrow();
    const forged = {
      seq: 3,
      id: '00000000-0000-4000-8000-000000000000',
      at: '2026-04-01T10:00:02.500Z',
      type: 'revoked',
      actor: 'mallory',
      key_id: 'key-1',
      data: {},
      prev_hash: before.hash,
    };
    await db
      .insertInto('events')
      .values({ ...forged, data: '{}', hash: hashEvent(forged) })
      .execute();
    // The forged row itself chains perfectly; the honest row it pushed to seq 4 no longer matches its hash.
    expect((await log.verify()).firstBad).toMatchObject({ seq: 4, reason: 'hash_mismatch' });
  });

  it('names the first of two swapped rows', async () => {
    const { db, log } = await seededLog(() => backend.sharedStore());
    await db.updateTable('events').set({ seq: -1 }).where('seq', '=', 3).execute();
    await db.updateTable('events').set({ seq: 3 }).where('seq', '=', 4).execute();
    await db.updateTable('events').set({ seq: 4 }).where('seq', '=', -1).execute();
    expect((await log.verify()).firstBad).toMatchObject({ seq: 3, reason: 'hash_mismatch' });
  });

  it('names a forged row numbered below 1', async () => {
    const { db, log } = await seededLog(() => backend.sharedStore());
    const forged = {
      seq: 0,
      id: 'forged',
      at: '2026-01-01T00:00:00.000Z',
      type: 'login',
      actor: 'mallory',
      key_id: null,
      data: {},
      prev_hash: '0'.repeat(64),
    };
    await db
      .insertInto('events')
      .values({ ...forged, data: '{}', hash: hashEvent(forged) })
      .execute();
    expect((await log.verify()).firstBad).toMatchObject({ seq: 0, reason: 'unexpected_row' });
  });

  it('names a row whose data is not JSON', async () => {
    const { db, log } = await seededLog(() => backend.sharedStore());
    await db.updateTable('events').set({ data: '{oops' }).where('seq', '=', 2).execute();
    expect((await log.verify()).firstBad).toMatchObject({ seq: 2, reason: 'unreadable_data' });
  });

  it('finds the first bad row past page boundaries', async () => {
    const { db, log } = await seededLog(() => backend.sharedStore(), 11);
    await db.updateTable('events').set({ actor: 'mallory' }).where('seq', '=', 9).execute();
    const pages: number[] = [];
    const result = await log.verify({ pageSize: 2, onProgress: (checked) => pages.push(checked) });
    expect(result).toMatchObject({ checked: 8, firstBad: { seq: 9 } });
    expect(pages).toEqual([2, 4, 6, 8]);
  });

  it('cannot see a cut tail or a fully re-chained rewrite on its own, but an anchored head can', async () => {
    const { db, log } = await seededLog(() => backend.sharedStore());
    const anchor = (await log.head())!;
    await db.deleteFrom('events').where('seq', '>', 4).execute();
    // The chain that is left is internally perfect: truncation is invisible without an outside record.
    expect(await log.verify()).toMatchObject({ ok: true, checked: 4 });
    expect(await log.verify({ anchor })).toMatchObject({ ok: false, firstBad: { seq: 5, reason: 'truncated' } });

    const rewritten = await seededLog(() => backend.sharedStore());
    const earlierHead = (await rewritten.log.head())!;
    await rewritten.db.updateTable('events').set({ actor: 'mallory' }).where('seq', '=', 2).execute();
    await rechain(rewritten.db, 2);
    expect(await rewritten.log.verify()).toMatchObject({ ok: true });
    expect(await rewritten.log.verify({ anchor: earlierHead })).toMatchObject({
      ok: false,
      firstBad: { seq: 6, reason: 'anchor_mismatch' },
    });
  });
});
