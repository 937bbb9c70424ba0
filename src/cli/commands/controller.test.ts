// `keyledger controller` as the daemon it is: a real process, stopped with SIGTERM. It must give back every journal
// row it holds, leave the registry clean and exit 0, so that the next start (or `rotate --resume`) carries on from
// where it stopped; a stop while it waits for consumers ends the wait rather than sitting it out.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runGit } from '../../git/git-command.js';
import { GIT_TEST_ENV, makeRegistry } from '../../registry/test-support/registry-fixtures.js';
import { runCli } from '../test-support/run-cli.js';

const MAIN_MODULE = fileURLToPath(new URL('../main.ts', import.meta.url));
// Node with tsx's loader, not tsx's CLI: the CLI relays a signal to its child and SIGKILLs it when the child does
// not confirm within 30 ms (exit 143), which a loaded machine misses — the signal must reach keyledger itself.
// (by path: the child runs in a registry folder, where a bare 'tsx' would not resolve).
const NODE_WITH_TSX = [
  process.execPath,
  '--import',
  new URL('../../../node_modules/tsx/dist/loader.mjs', import.meta.url).href,
] as const;
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

interface JournalRow {
  key_id: string;
  state: string;
  lease_owner: string | null;
}

/** A registry with internal keys last rotated 60 days ago every 30 days (so due now), each used by a consumer. */
async function dueRegistry(keys: number) {
  const registry = await makeRegistry({ '.gitignore': '.keyledger/\n', 'keyledger.config.yaml': '' }, { git: true });
  const env: NodeJS.ProcessEnv = {
    ...GIT_TEST_ENV,
    KEYLEDGER_DATA_DIR: join(registry, '.keyledger'),
    KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
    KEYLEDGER_DATABASE_URL: '',
    KEYLEDGER_TICKETS: '',
    KEYLEDGER_LOG_LEVEL: 'info',
  };
  const issuedAt = new Date(Date.now() - 60 * 86_400_000).toISOString();
  for (let index = 0; index < keys; index++) {
    const run = await runCli(
      [
        'issue',
        '--provider',
        'internal',
        '--team',
        'payments',
        '--owner',
        'payments@example.com',
        '--purpose',
        `orders API ${index}`,
        '--scope',
        'orders:read',
        '--rotate-every',
        '30',
        // A consumer without a probe gets the default grace period (5 minutes): the rotation waits for it.
        '--consumer',
        `checkout-${index}`,
        '--json',
      ],
      { cwd: registry, env, now: issuedAt },
    );
    expect(run.code, run.stderr).toBe(0);
  }
  return { registry, env };
}

/** Runs `keyledger <args>` from this checkout's sources in its own process. */
function keyledgerProcess(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(
    NODE_WITH_TSX[0],
    [
      ...NODE_WITH_TSX.slice(1),
      '-e',
      `import(${JSON.stringify(MAIN_MODULE)}).then(async (m) => { process.exitCode = await m.main(process.argv.slice(0)); })`,
      'keyledger',
      ...args,
    ],
    { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk) => {
    output.stdout += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    output.stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output, exited };
}

function journal(registry: string): JournalRow[] {
  const db = new Database(join(registry, '.keyledger', 'keyledger.db'), { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const tables = db.prepare(`select name from sqlite_master where name = 'rotation_journal'`).all();
    if (tables.length === 0) return [];
    return db.prepare('select key_id, state, lease_owner from rotation_journal').all() as JournalRow[];
  } finally {
    db.close();
  }
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('keyledger controller', () => {
  it('SIGTERM while rotations wait for consumers: rows given back, registry clean, exit 0; --resume finishes them', async () => {
    const { registry, env } = await dueRegistry(3);
    const head = await runGit(['rev-parse', 'HEAD'], { cwd: registry, env: GIT_TEST_ENV });
    // Every second, so the first run starts at once.
    const controller = keyledgerProcess(['controller', '--schedule', '* * * * * *', '--json'], registry, env);

    // All three rotations minted and stored their new key, and wait for their consumers' grace period.
    await until('three rotations waiting for consumers', () => {
      const rows = journal(registry);
      return rows.length === 3 && rows.every((row) => row.state === 'stored') ? rows : undefined;
    });
    const signalled = Date.now();
    controller.child.kill('SIGTERM');
    const exit = await controller.exited;
    const stopSeconds = (Date.now() - signalled) / 1000;

    expect(exit, controller.output.stderr).toEqual({ code: 0, signal: null });
    // It did not sit out the 5-minute grace period.
    expect(stopSeconds).toBeLessThan(30);
    expect(controller.output.stdout).toMatch(/"stopped": ?true/);
    const rows = journal(registry);
    expect(rows.map((row) => row.state)).toEqual(['stored', 'stored', 'stored']);
    expect(rows.every((row) => row.lease_owner === null)).toBe(true);
    // Nothing was half-written: the registry is as it was (rotations commit only once they are done).
    expect(await runGit(['status', '--porcelain'], { cwd: registry, env: GIT_TEST_ENV })).toBe('');
    expect(await runGit(['rev-parse', 'HEAD'], { cwd: registry, env: GIT_TEST_ENV })).toBe(head);

    // The next run carries on where the daemon stopped (consumers confirmed by a zero grace period this time).
    const resumed = await runCli(['rotate', '--resume', '--grace', '0s', '--json'], {
      cwd: registry,
      env,
      now: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(journal(registry).map((row) => row.state)).toEqual(['done', 'done', 'done']);
    expect(await runGit(['status', '--porcelain'], { cwd: registry, env: GIT_TEST_ENV })).toBe('');
  }, 180_000);

  it('SIGTERM while idle between runs: exits 0 at once', async () => {
    const { registry, env } = await dueRegistry(0);
    const controller = keyledgerProcess(['controller', '--schedule', '0 2 * * *'], registry, env);
    await until('the controller to announce its schedule', () =>
      controller.output.stderr.includes('first run at') ? true : undefined,
    );
    const signalled = Date.now();
    controller.child.kill('SIGTERM');
    const exit = await controller.exited;
    expect(exit, controller.output.stderr).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(10_000);
  }, 120_000);
});
