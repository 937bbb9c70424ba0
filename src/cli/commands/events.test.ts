// `keyledger events` and `keyledger events verify`, run in-process against a real store on both engines.
import { expect, it } from 'vitest';
import { forEachBackend, type TestDatabase } from '../../db/test-support/test-databases.js';
import { EventLog } from '../../events/event-log.js';
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
    expect(human.stdout).toMatch(/^✔ event log intact: 3 events, head 3:[0-9a-f]{64}\n$/);
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
  expect(unknown.stderr).toContain('unknown events action "purge"');
});
