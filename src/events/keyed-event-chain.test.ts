// The keyed chain on both engines: rows HMAC'd under the chain key, what a database writer without the key can and
// cannot do to them, and the switch of a log begun with plain SHA-256 rows (event-log.ts, event-chain-verifier.ts).
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { expect, it } from 'vitest';
import type { OperationalSchema } from '../db/operational-schema.js';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { fixedClock } from '../runtime/clock.js';
import type { EventChainKey } from './event-chain-key.js';
import { GENESIS_HASH, hashEvent, keyedHashEvent } from './event-hash.js';
import { type ChainHead, EventLog } from './event-log.js';

const chainKey: EventChainKey = { version: 'v1', key: randomBytes(32) };

async function emptied(open: () => Promise<{ db: Kysely<OperationalSchema> }>) {
  const { db } = await open();
  await db.deleteFrom('events').execute();
  return db;
}

async function appendSix(log: EventLog, clock: ReturnType<typeof fixedClock>) {
  for (let index = 1; index <= 6; index += 1) {
    await log.append({
      type: index % 2 ? 'issued' : 'rotated',
      actor: 'alice',
      keyId: `key-${index}`,
      data: { index },
    });
    clock.advance(1_000);
  }
}

/**
 * Rewrites rows `fromSeq` to `toSeq` (default: the last), each re-hashed and re-chained with `hash`, as a forger
 * with table access would.
 */
async function rechain(
  db: Kysely<OperationalSchema>,
  fromSeq: number,
  hash: (fields: Parameters<typeof hashEvent>[0]) => string,
  toSeq = Number.MAX_SAFE_INTEGER,
) {
  const rows = await db.selectFrom('events').selectAll().orderBy('seq').execute();
  let prev = rows.find((row) => Number(row.seq) === fromSeq - 1)?.hash ?? GENESIS_HASH;
  for (const row of rows.filter((candidate) => Number(candidate.seq) >= fromSeq && Number(candidate.seq) <= toSeq)) {
    const next = hash({ ...row, seq: Number(row.seq), data: JSON.parse(row.data), prev_hash: prev });
    await db.updateTable('events').set({ prev_hash: prev, hash: next }).where('seq', '=', row.seq).execute();
    prev = next;
  }
}

forEachBackend((backend) => {
  it('HMACs every row under the chain key from row 1 and verifies only with that key', async () => {
    const db = await emptied(() => backend.sharedStore());
    const clock = fixedClock('2026-04-01T10:00:00.000Z');
    const heads: [ChainHead, number][] = [];
    const log = new EventLog(db, clock, { chainKey, onAppended: (head, count) => heads.push([head, count]) });
    await appendSix(log, clock);
    const [first] = await log.appendMany([
      { type: 'verified', actor: 'bob' },
      { type: 'verified', actor: 'carol' },
    ]);
    expect(first?.hash).toMatch(/^hmac-sha256:v1:[0-9a-f]{64}$/);
    const rows = await db.selectFrom('events').selectAll().orderBy('seq').execute();
    expect(rows.map((row) => row.hash.slice(0, 15))).toEqual(Array(8).fill('hmac-sha256:v1:'));
    expect(rows[0]?.prev_hash).toBe(GENESIS_HASH);
    expect(heads.at(-1)).toEqual([{ seq: 8, hash: rows[7]?.hash }, 2]);
    expect(await log.verify()).toMatchObject({ ok: true, checked: 8, keyedFrom: 1 });
    // Without the key nothing can be said about a keyed row: a typed error, not a verdict.
    await expect(new EventLog(db).verify()).rejects.toMatchObject({ code: 'E_EVENT_CHAIN_KEY' });
    // Under another key every keyed row is a forgery.
    const other = new EventLog(db, clock, { chainKey: { version: 'v1', key: randomBytes(32) } });
    expect(await other.verify()).toMatchObject({ ok: false, firstBad: { seq: 1, reason: 'hash_mismatch' } });
  });

  it('catches a row rewritten and every later row re-hashed with plain SHA-256, which a plain chain passes', async () => {
    const db = await emptied(() => backend.sharedStore());
    const clock = fixedClock('2026-04-01T10:00:00.000Z');
    const log = new EventLog(db, clock, { chainKey });
    await appendSix(log, clock);
    await db.updateTable('events').set({ actor: 'mallory' }).where('seq', '=', 3).execute();
    await rechain(db, 3, hashEvent);
    expect(await log.verify()).toMatchObject({
      ok: false,
      checked: 2,
      keyedFrom: 1,
      firstBad: { seq: 3, reason: 'plain_after_keyed', message: expect.stringContaining('without the chain key') },
    });

    // The same forgery on a log written without a key passes: the symptom of issue 13.
    const plainDb = await emptied(() => backend.sharedStore());
    const plain = new EventLog(plainDb, clock);
    await appendSix(plain, clock);
    await plainDb.updateTable('events').set({ actor: 'mallory' }).where('seq', '=', 3).execute();
    await rechain(plainDb, 3, hashEvent);
    expect(await plain.verify()).toMatchObject({ ok: true, checked: 6 });
  });

  it('catches a row rewritten and re-HMACed by someone who does not hold the key', async () => {
    const db = await emptied(() => backend.sharedStore());
    const clock = fixedClock('2026-04-01T10:00:00.000Z');
    const log = new EventLog(db, clock, { chainKey });
    await appendSix(log, clock);
    await db.updateTable('events').set({ data: '{"index":44}' }).where('seq', '=', 4).execute();
    const guessed: EventChainKey = { version: 'v1', key: randomBytes(32) };
    await rechain(db, 4, (fields) => keyedHashEvent(fields, guessed));
    expect(await log.verify()).toMatchObject({
      ok: false,
      checked: 3,
      firstBad: { seq: 4, reason: 'hash_mismatch', message: expect.stringContaining('HMAC') },
    });
    // A row naming a key version the verifier does not hold is named as such.
    await rechain(db, 4, (fields) => keyedHashEvent(fields, { ...guessed, version: 'v9' }));
    expect(await log.verify()).toMatchObject({
      firstBad: { seq: 4, reason: 'hash_mismatch', message: expect.stringContaining('names chain key v9') },
    });
  });

  it('switches a plain log to keyed rows with an event_chain.keyed row that seals the plain ones', async () => {
    const db = await emptied(() => backend.sharedStore());
    const clock = fixedClock('2026-04-01T10:00:00.000Z');
    await appendSix(new EventLog(db, clock), clock);
    const plainHead = await new EventLog(db).head();
    const keyed = new EventLog(db, clock, { chainKey });
    const [event] = await keyed.appendMany([{ type: 'revoked', actor: 'alice', keyId: 'key-1' }]);
    // The caller gets back what it appended; the switch row sits before it.
    expect(event).toMatchObject({ seq: 8, type: 'revoked' });
    const [switchRow] = await keyed.list({ type: 'event_chain.keyed' });
    expect(switchRow).toMatchObject({
      seq: 7,
      actor: 'system:event-log',
      data: { algorithm: 'hmac-sha256', keyVersion: 'v1', plainRows: 6, plainHead: plainHead?.hash },
      prevHash: plainHead?.hash,
    });
    expect(switchRow?.hash).toMatch(/^hmac-sha256:v1:/);
    expect(await keyed.verify()).toMatchObject({ ok: true, checked: 8, keyedFrom: 7 });

    // Only one switch: the next append chains keyed rows straight on.
    await keyed.append({ type: 'verified', actor: 'alice' });
    expect((await keyed.head())?.seq).toBe(9);

    // A writer without the key can no longer append (it would downgrade the chain), and writes nothing.
    await expect(new EventLog(db, clock).append({ type: 'verified', actor: 'mallory' })).rejects.toMatchObject({
      code: 'E_EVENT_CHAIN_KEY',
    });
    await expect(
      new EventLog(db, clock, { chainKey: { version: 'v2', key: randomBytes(32) } }).append({
        type: 'verified',
        actor: 'mallory',
      }),
    ).rejects.toMatchObject({ code: 'E_EVENT_CHAIN_KEY', message: expect.stringContaining('chain key v1') });
    expect((await keyed.head())?.seq).toBe(9);

    // Rewriting a plain row and re-hashing the plain rows after it breaks at the keyed switch row.
    await db.updateTable('events').set({ actor: 'mallory' }).where('seq', '=', 2).execute();
    await rechain(db, 2, hashEvent, 6);
    const rows = await db.selectFrom('events').selectAll().where('seq', '<=', 6).execute();
    expect(rows.every((row) => /^[0-9a-f]{64}$/.test(row.hash))).toBe(true);
    expect(await keyed.verify()).toMatchObject({
      ok: false,
      checked: 6,
      firstBad: { seq: 7, reason: 'prev_hash_mismatch' },
    });
    // Re-hashing the switch row too in plain SHA-256 leaves a switch row that is not keyed: named as such. (Removing
    // every trace of keying — a whole log re-hashed and renumbered — is what the anchors catch: event-anchors.test.ts.)
    await rechain(db, 2, hashEvent, 7);
    expect(await keyed.verify()).toMatchObject({
      ok: false,
      checked: 6,
      firstBad: { seq: 7, reason: 'plain_after_keyed' },
    });
  });
});
