// Anchors on the registry repository's refs/keyledger/anchors: written beside the branches without touching them,
// read back and checked under the chain key, taken automatically by policy, and — on both engines — what they
// catch that the chain cannot: a cut tail, a log re-hashed from row 1, a forged anchor.
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { describe, expect, it, vi } from 'vitest';
import type { OperationalSchema } from '../db/operational-schema.js';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { writeTransaction } from '../db/write-transaction.js';
import { runGit } from '../git/git-command.js';
import { GIT_TEST_ENV, makeRegistry } from '../registry/test-support/registry-fixtures.js';
import { fixedClock } from '../runtime/clock.js';
import {
  anchorPolicyFromEnv,
  EVENT_ANCHOR_REF,
  EventAnchorer,
  latestEventAnchor,
  readEventAnchors,
  writeEventAnchor,
} from './event-anchors.js';
import type { EventChainKey } from './event-chain-key.js';
import { GENESIS_HASH, hashEvent } from './event-hash.js';
import { EventLog } from './event-log.js';

const chainKey: EventChainKey = { version: 'v1', key: randomBytes(32) };
const git = (cwd: string, ...args: string[]) => runGit(args, { cwd, env: GIT_TEST_ENV });

async function keyedLog(db: Kysely<OperationalSchema>, count: number) {
  await db.deleteFrom('events').execute();
  const clock = fixedClock('2026-04-01T10:00:00.000Z');
  const log = new EventLog(db, clock, { chainKey });
  for (let index = 1; index <= count; index += 1) {
    await log.append({ type: 'rotated', actor: 'alice', keyId: `key-${index}`, data: { index } });
    clock.advance(1_000);
  }
  return { log, clock };
}

describe('the anchor ref', () => {
  it('holds one commit per anchor, on no branch, leaving HEAD, the index and the work tree alone', async () => {
    const repository = await makeRegistry({ 'keys/a.yaml': 'x: 1\n' }, { git: true });
    const headBefore = await git(repository, 'rev-parse', 'HEAD');
    const clock = fixedClock('2026-04-01T10:00:00.000Z');
    const first = await writeEventAnchor({ repository, chainKey, head: { seq: 3, hash: 'a'.repeat(64) }, clock });
    expect(first).toMatchObject({
      written: true,
      anchor: { seq: 3, keyVersion: 'v1', at: '2026-04-01T10:00:00.000Z' },
    });
    const again = await writeEventAnchor({ repository, chainKey, head: { seq: 3, hash: 'a'.repeat(64) }, clock });
    expect(again).toMatchObject({ written: false, anchor: { seq: 3, commit: first.anchor?.commit } });
    await writeEventAnchor({ repository, chainKey, head: { seq: 9, hash: `hmac-sha256:v1:${'b'.repeat(64)}` }, clock });
    expect(await git(repository, 'rev-parse', 'HEAD')).toBe(headBefore);
    expect(await git(repository, 'status', '--porcelain')).toBe('');
    expect((await git(repository, 'branch', '--list')).trim()).toBe('* main');
    expect((await git(repository, 'rev-list', '--count', EVENT_ANCHOR_REF)).trim()).toBe('2');
    const anchors = await readEventAnchors(repository, chainKey);
    expect(anchors.map(({ seq, valid }) => ({ seq, valid }))).toEqual([
      { seq: 3, valid: true },
      { seq: 9, valid: true },
    ]);
    expect(await latestEventAnchor(repository)).toMatchObject({ seq: 9 });
    // Under another key the same anchors do not verify.
    const other = await readEventAnchors(repository, { version: 'v1', key: randomBytes(32) });
    expect(other.every((anchor) => anchor.valid === false)).toBe(true);
  });

  it('signs anchors where the repository signs commits', async () => {
    const repository = await makeRegistry({}, { git: true });
    await git(repository, 'config', 'commit.gpgsign', 'true');
    // A signing program that always fails: the anchor fails with it, so git was asked to sign.
    await git(repository, 'config', 'gpg.program', 'false');
    const clock = fixedClock('2026-04-01T10:00:00.000Z');
    await expect(
      writeEventAnchor({ repository, chainKey, head: { seq: 1, hash: 'a'.repeat(64) }, clock }),
    ).rejects.toMatchObject({ code: 'E_GIT' });
    expect(await latestEventAnchor(repository)).toBeNull();
    await git(repository, 'config', 'commit.gpgsign', 'false');
    expect(
      await writeEventAnchor({ repository, chainKey, head: { seq: 1, hash: 'a'.repeat(64) }, clock }),
    ).toMatchObject({ written: true });
  });

  it('keeps one linear history when several writers anchor at once', async () => {
    const repository = await makeRegistry({}, { git: true });
    const clock = fixedClock('2026-04-01T10:00:00.000Z');
    await Promise.all(
      [1, 2, 3, 4, 5].map((seq) =>
        writeEventAnchor({ repository, chainKey, head: { seq, hash: String(seq).repeat(64) }, clock }),
      ),
    );
    const anchors = await readEventAnchors(repository, chainKey);
    const seqs = anchors.map((anchor) => anchor.seq);
    // Whoever lost a race re-read the tip and stopped if it already covered its head: seqs only ever rise.
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.at(-1)).toBe(5);
    expect((await git(repository, 'rev-list', '--merges', '--count', EVENT_ANCHOR_REF)).trim()).toBe('0');
  });

  it('reads its policy from the environment, falling back to 100 events or 10 minutes', () => {
    expect(anchorPolicyFromEnv({})).toEqual({ every: 100, intervalMs: 600_000 });
    expect(anchorPolicyFromEnv({ KEYLEDGER_EVENT_ANCHOR_EVERY: '0', KEYLEDGER_EVENT_ANCHOR_MINUTES: '1.5' })).toEqual({
      every: 0,
      intervalMs: 90_000,
    });
    expect(anchorPolicyFromEnv({ KEYLEDGER_EVENT_ANCHOR_EVERY: '-3' })).toMatchObject({ every: 100 });
  });
});

forEachBackend((backend) => {
  it('anchors as events are appended: at once when there is none, then every N events or M minutes', async () => {
    const repository = await makeRegistry({}, { git: true });
    const { db } = await backend.sharedStore();
    await db.deleteFrom('events').execute();
    const clock = fixedClock('2026-04-01T10:00:00.000Z');
    let anchorer: EventAnchorer | null = null;
    const log = new EventLog(db, clock, { chainKey, onAppended: (head) => anchorer?.noteAppended(head) });
    anchorer = new EventAnchorer({
      repository,
      chainKey,
      head: () => log.head(),
      clock,
      policy: { every: 3, intervalMs: 10 * 60_000 },
      recheckMs: 20,
    });
    const anchoredSeqs = async () => {
      await anchorer?.settle();
      return (await readEventAnchors(repository, chainKey)).map((anchor) => anchor.seq);
    };
    await log.append({ type: 'issued', actor: 'alice' });
    expect(await anchoredSeqs()).toEqual([1]);
    await log.append({ type: 'stored', actor: 'alice' });
    await log.append({ type: 'registered', actor: 'alice' });
    expect(await anchoredSeqs()).toEqual([1]);
    await log.append({ type: 'verified', actor: 'alice' });
    expect(await anchoredSeqs()).toEqual([1, 4]);
    clock.advance(11 * 60_000);
    await log.append({ type: 'rotated', actor: 'alice' });
    expect(await anchoredSeqs()).toEqual([1, 4, 5]);
    // Appends inside a caller's transaction (the rotation journal's) count too; the anchor is of the committed
    // head, read after the transaction ends.
    clock.advance(11 * 60_000);
    await writeTransaction(db, (trx) => log.appendWithin(trx, [{ type: 'rotated', actor: 'alice' }]));
    await vi.waitFor(async () => expect(await anchoredSeqs()).toEqual([1, 4, 5, 6]), { timeout: 5_000 });
    // One that rolls back is never anchored.
    clock.advance(11 * 60_000);
    await writeTransaction(db, async (trx) => {
      await log.appendWithin(trx, [{ type: 'rotated', actor: 'alice' }]);
      throw new Error('rolled back');
    }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await anchoredSeqs()).toEqual([1, 4, 5, 6]);
    expect(await anchorer.close()).toBeNull();
    expect(await log.verify({ anchors: await readEventAnchors(repository, chainKey) })).toMatchObject({
      ok: true,
      anchorsChecked: 4,
    });
  });

  it('never fails an append when the repository cannot take anchors', async () => {
    const notGit = await mkdtemp(join(tmpdir(), 'keyledger-not-git-'));
    const { db } = await backend.sharedStore();
    await db.deleteFrom('events').execute();
    let anchorer: EventAnchorer | null = null;
    const log = new EventLog(db, fixedClock('2026-04-01T10:00:00.000Z'), {
      chainKey,
      onAppended: (head) => anchorer?.noteAppended(head),
    });
    anchorer = new EventAnchorer({
      repository: notGit,
      chainKey,
      head: () => log.head(),
      clock: fixedClock('2026-04-01'),
    });
    await log.append({ type: 'issued', actor: 'alice' });
    await anchorer.settle();
    expect(await anchorer.anchorIfDue()).toBeNull();
    expect((await log.head())?.seq).toBe(1);
  });

  it('detects with the anchors a cut tail, a log re-hashed from row 1, and a forged anchor', async () => {
    const repository = await makeRegistry({}, { git: true });
    const { db } = await backend.sharedStore();
    const { log, clock } = await keyedLog(db, 6);
    const headAt = async (seq: number) => {
      const row = await db
        .selectFrom('events')
        .select(['seq', 'hash'])
        .where('seq', '=', seq)
        .executeTakeFirstOrThrow();
      return { seq, hash: row.hash };
    };
    await writeEventAnchor({ repository, chainKey, head: await headAt(4), clock });
    await writeEventAnchor({ repository, chainKey, head: await headAt(6), clock });
    const anchors = await readEventAnchors(repository, chainKey);
    expect(await log.verify({ anchors })).toMatchObject({ ok: true, anchorsChecked: 2, keyedFrom: 1 });

    // A cut tail: the chain that is left is perfect, the anchor at 6 is not reached.
    await db.deleteFrom('events').where('seq', '>', 5).execute();
    expect(await log.verify()).toMatchObject({ ok: true, checked: 5 });
    expect(await log.verify({ anchors })).toMatchObject({
      ok: false,
      firstBad: {
        seq: 6,
        reason: 'truncated',
        message: expect.stringMatching(/log ends at row 5 but git [0-9a-f]{12} at .* anchored row 6: rows 6 to 6/),
      },
    });

    // The whole log re-hashed in plain SHA-256 from row 1 leaves no keyed row to contradict it; the anchor does.
    await keyedLog(db, 6);
    const rows = await db.selectFrom('events').selectAll().orderBy('seq').execute();
    let prev = GENESIS_HASH;
    for (const row of rows) {
      const actor = Number(row.seq) === 2 ? 'mallory' : row.actor;
      const hash = hashEvent({ ...row, actor, seq: Number(row.seq), data: JSON.parse(row.data), prev_hash: prev });
      await db.updateTable('events').set({ actor, prev_hash: prev, hash }).where('seq', '=', row.seq).execute();
      prev = hash;
    }
    expect(await log.verify()).toMatchObject({ ok: true, keyedFrom: null });
    expect(await log.verify({ anchors })).toMatchObject({
      ok: false,
      firstBad: { seq: 4, reason: 'anchor_mismatch', message: expect.stringContaining('rewritten at or before row 4') },
    });

    // An anchor written by someone without the key (to bless a forged log) is named before any row is read.
    const forger: EventChainKey = { version: 'v1', key: randomBytes(32) };
    await writeEventAnchor({ repository, chainKey: forger, head: { seq: 7, hash: 'f'.repeat(64) }, clock });
    const withForged = await readEventAnchors(repository, chainKey);
    expect(withForged.at(-1)).toMatchObject({ seq: 7, valid: false });
    expect(await log.verify({ anchors: withForged })).toMatchObject({
      ok: false,
      checked: 0,
      firstBad: { seq: 7, reason: 'anchor_invalid', message: expect.stringContaining('valid MAC') },
    });

    // A commit on the ref that is no anchor at all is named too.
    const emptyTree = (await runGit(['mktree'], { cwd: repository, input: '' })).trim();
    const tip = (await git(repository, 'rev-parse', EVENT_ANCHOR_REF)).trim();
    const junk = (await git(repository, 'commit-tree', emptyTree, '-p', tip, '-m', 'not an anchor')).trim();
    await git(repository, 'update-ref', EVENT_ANCHOR_REF, junk);
    expect((await readEventAnchors(repository, chainKey)).at(-1)).toMatchObject({ valid: false });
  });
});
