// `keyledger events`, `events verify` and `events anchor`, run in-process against a real store on both engines.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { openKeyledgerApp } from '../../app/keyledger-app.js';
import { forEachBackend, type TestDatabase } from '../../db/test-support/test-databases.js';
import { hashEvent } from '../../events/event-hash.js';
import { EventLog } from '../../events/event-log.js';
import { GIT_TEST_ENV, makeRegistry } from '../../registry/test-support/registry-fixtures.js';
import { fixedClock } from '../../runtime/clock.js';
import { runCli } from '../test-support/run-cli.js';

function envFor(database: TestDatabase): NodeJS.ProcessEnv {
  return {
    KEYLEDGER_DATA_DIR: database.options.dataDir,
    KEYLEDGER_DATABASE_URL: database.options.databaseUrl ?? '',
  };
}

async function seeded(database: TestDatabase) {
  const store = await database.open();
  const clock = fixedClock('2026-04-01T10:00:00.000Z');
  const log = new EventLog(store.db, clock);
  await log.append({
    type: 'issued',
    actor: 'alice@example.com',
    keyId: 'payments-stripe-live-001',
    data: { provider: 'stripe' },
  });
  clock.advance(60_000);
  await log.append({ type: 'rotated', actor: 'system:rotation', keyId: 'payments-stripe-live-001' });
  clock.advance(60_000);
  await log.append({ type: 'finding', actor: 'scanner', data: { repo: 'payments' } });
  await store.close();
  return store;
}

forEachBackend((backend) => {
  it('lists events newest first as a table, and filters them', async () => {
    const database = await backend.createDatabase();
    await seeded(database);
    const all = await runCli(['events'], { cwd: database.options.dataDir, env: envFor(database) });
    expect(all).toMatchObject({ code: 0, stderr: '' });
    const lines = all.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SEQ\s+AT\s+TYPE\s+ACTOR\s+KEY\s+DATA$/);
    expect(lines.slice(2).map((line) => line.split(/\s+/)[0])).toEqual(['3', '2', '1']);
    expect(all.stdout).toContain('{"provider":"stripe"}');

    const byKey = await runCli(['events', '--key', 'payments-stripe-live-001', '--type', 'rotated', '--json'], {
      cwd: database.options.dataDir,
      env: envFor(database),
    });
    expect(byKey.code).toBe(0);
    const parsed = JSON.parse(byKey.stdout);
    expect(parsed.count).toBe(1);
    expect(parsed.events[0]).toMatchObject({ seq: 2, type: 'rotated', actor: 'system:rotation' });

    const window = await runCli(
      ['events', '--since', '2026-04-01T10:01:00Z', '--until', '2026-04-01T10:02:00Z', '--json'],
      {
        cwd: database.options.dataDir,
        env: envFor(database),
      },
    );
    expect(JSON.parse(window.stdout).events.map((event: { seq: number }) => event.seq)).toEqual([2]);
    const limited = await runCli(['events', '--by', 'scanner', '--limit', '1', '--json'], {
      cwd: database.options.dataDir,
      env: envFor(database),
    });
    expect(JSON.parse(limited.stdout).events.map((event: { seq: number }) => event.seq)).toEqual([3]);
  });

  it('verifies an intact log with exit 0 and prints the head to anchor', async () => {
    const database = await backend.createDatabase();
    await seeded(database);
    const human = await runCli(['events', 'verify'], { cwd: database.options.dataDir, env: envFor(database) });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^✔ event log intact: 3 events, head 3:[0-9a-f]{64}\n/);
    const json = await runCli(['events', 'verify', '--json'], { cwd: database.options.dataDir, env: envFor(database) });
    const result = JSON.parse(json.stdout);
    expect(result).toMatchObject({ ok: true, checked: 3, head: { seq: 3 }, firstBad: null });
    const anchored = await runCli(['events', 'verify', '--anchor', `${result.head.seq}:${result.head.hash}`], {
      cwd: database.options.dataDir,
      env: envFor(database),
    });
    expect(anchored.code).toBe(0);
  });

  it('exits 1 naming the first bad row when the log was tampered with', async () => {
    const database = await backend.createDatabase();
    await seeded(database);
    const store = await database.open();
    await store.db.updateTable('events').set({ actor: 'mallory' }).where('seq', '=', 2).execute();
    await store.close();
    const human = await runCli(['events', 'verify'], { cwd: database.options.dataDir, env: envFor(database) });
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('✖ event log broken at row 2 (hash_mismatch)');
    const json = await runCli(['events', 'verify', '--json'], { cwd: database.options.dataDir, env: envFor(database) });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      checked: 1,
      firstBad: { seq: 2, reason: 'hash_mismatch' },
    });
  });
});

it('outside a registry, and in a registry with no store yet, exits 2 and creates nothing (no empty success)', async () => {
  const { mkdtempSync, mkdirSync, rmSync, existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const cwd = mkdtempSync(join(tmpdir(), 'keyledger-events-cli-'));
  try {
    const env = { KEYLEDGER_DATA_DIR: '', KEYLEDGER_DATABASE_URL: '', KEYLEDGER_REGISTRY: '' };
    const outside = await runCli(['events', 'verify'], { cwd, env });
    expect(outside).toMatchObject({ code: 2, stdout: '' });
    expect(outside.stderr).toContain('E_NO_REGISTRY');
    expect(existsSync(join(cwd, '.keyledger'))).toBe(false);
    mkdirSync(join(cwd, 'keys'));
    for (const args of [['events'], ['events', 'verify']]) {
      const run = await runCli(args, { cwd, env });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`E_NO_OPERATIONAL_STORE: no operational store at ${join(cwd, '.keyledger')}`);
    }
    expect(existsSync(join(cwd, '.keyledger'))).toBe(false);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

it('refuses bad options with exit 2 and a message naming the value', async () => {
  const cwd = process.cwd();
  const env = { KEYLEDGER_DATA_DIR: '/nonexistent-never-created', KEYLEDGER_DATABASE_URL: '' };
  const since = await runCli(['events', '--since', 'last tuesday'], { cwd, env });
  expect(since.code).toBe(2);
  expect(since.stderr).toContain('E_USAGE');
  expect(since.stderr).toContain('"last tuesday"');
  expect((await runCli(['events', '--limit', '0'], { cwd, env })).code).toBe(2);
  // --actor is who acts (docs/cli.md); the filter is --by, and the old spelling fails loudly.
  const oldFilter = await runCli(['events', '--actor', 'scanner'], { cwd, env });
  expect(oldFilter.code).toBe(2);
  expect(oldFilter.stderr).toContain('to filter by actor use --by');
  expect((await runCli(['events', 'verify', '--anchor', 'nope'], { cwd, env })).code).toBe(2);
  const unreachable = await runCli(['events'], {
    cwd,
    env: { ...env, KEYLEDGER_DATABASE_URL: 'postgres://postgres:pw@127.0.0.1:1/none' },
  });
  expect(unreachable.code).toBe(2);
  expect(unreachable.stderr).toContain('E_STORE_UNREACHABLE');
  expect(unreachable.stderr).not.toContain(':pw@');
});

it('refuses listing flags on verify and an unknown action', async () => {
  const cwd = process.cwd();
  const env = { KEYLEDGER_DATA_DIR: '/nonexistent-never-created', KEYLEDGER_DATABASE_URL: '' };
  const mixed = await runCli(['events', 'verify', '--type', 'issued'], { cwd, env });
  expect(mixed.code).toBe(2);
  expect(mixed.stderr).toContain('drop --type');
  const unknown = await runCli(['events', 'purge'], { cwd, env });
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('unknown events action "purge"; the actions are verify, anchor');
});

// Issue 13: the chain a database writer could rewrite unseen, and a listing one corrupt row made fail. These seed
// through openKeyledgerApp, as every command that appends does, and tamper as a writer with table access would.
async function appSeeded(database: TestDatabase) {
  const registry = await makeRegistry({ '.gitignore': '.keyledger/\n', 'keys/.gitkeep': '' }, { git: true });
  // Anchoring after every event (default: every 100 or 10 minutes), so the app's close anchors the last one.
  const env = { ...GIT_TEST_ENV, ...envFor(database), KEYLEDGER_EVENT_ANCHOR_EVERY: '1' };
  const app = await openKeyledgerApp({
    registryDir: registry,
    env: { ...process.env, ...env },
    cwd: registry,
    clock: fixedClock('2026-04-01T10:00:00.000Z'),
  });
  await app.events.append({ type: 'issued', actor: 'alice@example.com', keyId: 'payments-stripe-live-001' });
  await app.events.append({ type: 'rotated', actor: 'system:rotation', keyId: 'payments-stripe-live-001' });
  await app.events.append({ type: 'revoked', actor: 'alice@example.com', keyId: 'payments-stripe-live-001' });
  await app.close();
  const cli = (...args: string[]) => runCli(['events', ...args], { cwd: registry, env });
  return { registry, env, cli };
}

/** Rewrites row `seq`'s actor and re-hashes it and every row after it with plain SHA-256 (no key needed). */
async function rewriteAndRehash(database: TestDatabase, seq: number): Promise<void> {
  const store = await database.open();
  try {
    const rows = await store.db.selectFrom('events').selectAll().orderBy('seq').execute();
    let prev = rows.find((row) => Number(row.seq) === seq - 1)?.hash ?? '0'.repeat(64);
    for (const row of rows.filter((candidate) => Number(candidate.seq) >= seq)) {
      const actor = Number(row.seq) === seq ? 'mallory@example.com' : row.actor;
      const hash = hashEvent({ ...row, actor, seq: Number(row.seq), data: JSON.parse(row.data), prev_hash: prev });
      await store.db.updateTable('events').set({ actor, prev_hash: prev, hash }).where('seq', '=', row.seq).execute();
      prev = hash;
    }
  } finally {
    await store.close();
  }
}

forEachBackend((backend) => {
  it('fails verify on a row rewritten and every later row re-hashed (passed before the chain was keyed)', async () => {
    const database = await backend.createDatabase();
    const { cli } = await appSeeded(database);
    expect((await cli('verify')).code).toBe(0);
    await rewriteAndRehash(database, 2);
    const human = await cli('verify');
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('✖ event log broken at row 2');
    const json = await cli('verify', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      checked: 1,
      firstBad: { seq: 2, reason: 'plain_after_keyed' },
    });
    // The chain key alone sees it: the anchors are not needed for this one.
    expect(JSON.parse((await cli('verify', '--json', '--no-anchors')).stdout)).toMatchObject({
      firstBad: { seq: 2, reason: 'plain_after_keyed' },
    });
  });

  it('anchors the head in the registry repository and catches a cut tail and a log re-hashed from row 1', async () => {
    const database = await backend.createDatabase();
    const { cli, registry } = await appSeeded(database);
    // The app anchored on close (the first anchor is due at once); `events anchor` has nothing new to add.
    const again = await cli('anchor', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      written: false,
      anchor: { seq: 3, hash: expect.stringMatching(/^hmac-sha256:v1:/) },
      ref: 'refs/keyledger/anchors',
    });
    const verified = JSON.parse((await cli('verify', '--json')).stdout);
    expect(verified).toMatchObject({
      ok: true,
      keyedFrom: 1,
      chainKey: { version: 'v1' },
      anchors: { repository: registry, latest: { seq: 3 }, skipped: null },
    });
    // One to three anchors, as the background anchoring after each append raced the appends; every one matched.
    expect(verified.anchors.recorded).toBeGreaterThanOrEqual(1);
    expect(verified.anchorsChecked).toBe(verified.anchors.recorded);
    expect((await cli('verify')).stdout).toMatch(/(\d) of \1 anchors? matched; the newest holds row 3/);

    const store = await database.open();
    await store.db.deleteFrom('events').where('seq', '=', 3).execute();
    await store.close();
    const cut = await cli('verify', '--json');
    expect(cut.code).toBe(1);
    expect(JSON.parse(cut.stdout)).toMatchObject({
      ok: false,
      firstBad: { seq: 3, reason: 'truncated', message: expect.stringContaining('the log ends at row 2') },
    });
    // Without the anchors the rest is a perfect chain.
    expect((await cli('verify', '--no-anchors')).code).toBe(0);
    // ... and an anchor is refused on a log that does not verify.
    const refused = await cli('anchor');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('not anchored');

    await rewriteAndRehash(database, 1);
    const rehashed = JSON.parse((await cli('verify', '--json')).stdout);
    // Caught at the first anchor it reaches (anchor_mismatch) or, where the only anchor is row 3, as the cut tail.
    expect(rehashed).toMatchObject({
      ok: false,
      keyedFrom: null,
      firstBad: { reason: expect.stringMatching(/^(anchor_mismatch|truncated)$/) },
    });
  });

  it('switches a log written before the chain key to keyed rows on the first append, and verifies both parts', async () => {
    const database = await backend.createDatabase();
    await seeded(database); // three plain SHA-256 rows, as an earlier keyledger wrote them
    const env = envFor(database);
    const before = await runCli(['events', 'verify', '--no-anchors'], { cwd: database.options.dataDir, env });
    expect(before.stdout).toContain('not keyed yet');
    const registry = await makeRegistry({ '.gitignore': '.keyledger/\n', 'keys/.gitkeep': '' }, { git: true });
    // The earlier keyledger's data folder held its fingerprint key too (a data folder without one is refused).
    await writeFile(join(database.options.dataDir, 'fingerprint.key'), `v1:${'A'.repeat(43)}=\n`, { mode: 0o600 });
    const app = await openKeyledgerApp({
      registryDir: registry,
      env: { ...process.env, ...GIT_TEST_ENV, ...env },
      cwd: registry,
      clock: fixedClock('2026-04-02T10:00:00.000Z'),
    });
    await app.events.append({ type: 'revoked', actor: 'alice@example.com', keyId: 'payments-stripe-live-001' });
    await app.close();
    const listed = JSON.parse((await runCli(['events', '--json'], { cwd: registry, env })).stdout);
    expect(listed.events.map((event: { seq: number; type: string }) => `${event.seq}:${event.type}`)).toEqual([
      '5:revoked',
      '4:event_chain.keyed',
      '3:finding',
      '2:rotated',
      '1:issued',
    ]);
    const human = await runCli(['events', 'verify'], { cwd: registry, env });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('keyed (HMAC-SHA256 under the chain key) from row 4; rows 1-3 are plain SHA-256');
    // A plain row rewritten and every row after it re-hashed: without the key the switch row can only be re-hashed
    // in plain SHA-256, which gives it away.
    await rewriteAndRehash(database, 2);
    const broken = JSON.parse((await runCli(['events', 'verify', '--json'], { cwd: registry, env })).stdout);
    expect(broken).toMatchObject({ ok: false, firstBad: { seq: 4, reason: 'plain_after_keyed' } });
  });

  it('refuses to verify a keyed log without its chain key, and leaves no key file behind', async () => {
    const database = await backend.createDatabase();
    const { cli, env, registry } = await appSeeded(database);
    const keyFile = join(database.options.dataDir, 'event-chain.key');
    const key = readFileSync(keyFile, 'utf8');
    rmSync(keyFile);
    const run = await cli('verify');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('E_EVENT_CHAIN_KEY');
    expect(existsSync(keyFile)).toBe(false);
    // The key may come from the environment instead of the file.
    const fromEnv = await runCli(['events', 'verify'], {
      cwd: registry,
      env: { ...env, KEYLEDGER_EVENT_CHAIN_KEY: key.trim() },
    });
    expect(fromEnv.code).toBe(0);
    expect(run.stderr + fromEnv.stdout).not.toContain(key.trim().slice(3));
  });

  it('lists every readable row and names the corrupt ones (bad JSON, a malformed type, a NULL field)', async () => {
    const database = await backend.createDatabase();
    await seeded(database);
    const store = await database.open();
    try {
      // NOT NULL holds for every row keyledger writes; a writer that bypasses it is what this test is about.
      if (database.dialect === 'postgres') {
        await sql`alter table events alter column actor drop not null`.execute(store.db);
      } else {
        await sql`create table events_loose as select * from events`.execute(store.db);
        await sql`drop table events`.execute(store.db);
        await sql`alter table events_loose rename to events`.execute(store.db);
      }
      const row = (seq: number, fields: Record<string, unknown>) => ({
        seq,
        id: `00000000-0000-4000-8000-00000000000${seq}`,
        at: '2026-04-01T10:05:00.000Z',
        type: 'verified',
        actor: 'mallory',
        key_id: null,
        data: '{}',
        prev_hash: '0'.repeat(64),
        hash: '0'.repeat(64),
        ...fields,
      });
      await store.db
        .insertInto('events')
        .values([
          row(4, { data: '{"oops":' }),
          row(5, { type: 'DROP TABLE events;' }),
          row(6, { actor: null }),
          row(7, { type: 'finding', actor: 'scanner' }),
        ] as never)
        .execute();
    } finally {
      await store.close();
    }
    const env = envFor(database);
    const human = await runCli(['events'], { cwd: database.options.dataDir, env });
    expect(human.code).toBe(1);
    const seqs = human.stdout
      .trim()
      .split('\n')
      .slice(2)
      .map((line) => line.split(/\s+/)[0]);
    expect(seqs).toEqual(['7', '6', '5', '4', '3', '2', '1']);
    expect(human.stderr).toContain('event row 4 is unreadable: data is not JSON');
    expect(human.stderr).toContain('event row 5 is unreadable: type "DROP TABLE events;" is not an event type');
    expect(human.stderr).toContain('event row 6 is unreadable: actor is NULL');

    const json = await runCli(['events', '--json'], { cwd: database.options.dataDir, env });
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.events.map((event: { seq: number }) => event.seq)).toEqual([7, 3, 2, 1]);
    expect(parsed.unreadable).toEqual([
      { seq: 6, id: '00000000-0000-4000-8000-000000000006', problems: ['actor is NULL'] },
      {
        seq: 5,
        id: '00000000-0000-4000-8000-000000000005',
        problems: ['type "DROP TABLE events;" is not an event type'],
      },
      { seq: 4, id: '00000000-0000-4000-8000-000000000004', problems: ['data is not JSON'] },
    ]);
    // Filters still work around them.
    const filtered = await runCli(['events', '--type', 'finding', '--json'], { cwd: database.options.dataDir, env });
    expect(filtered.code).toBe(0);
    expect(JSON.parse(filtered.stdout).events.map((event: { seq: number }) => event.seq)).toEqual([7, 3]);
  });
});
