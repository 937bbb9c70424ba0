// The rotation crash test: rotations run in a child process that is killed with SIGKILL at random moments, over
// and over, each new child resuming the journal first. A sandbox consumer in this (parent) process uses every key
// all along. At the end: every key has exactly one working current secret, no provider holds an orphaned key, the
// consumer never lacked a working key, and no journal entry is stuck. Used by scripts/rotation-crash-test.ts
// (1,000 kills) and by rotation-crash.test.ts (a few dozen).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { openOperationalStore } from '../../../db/operational-store.js';
import { runGit } from '../../../git/git-command.js';
import { packageRoot } from '../../../runtime/package-paths.js';
import { createRotationWorld } from './rotation-fixture.js';

export interface CrashTestOptions {
  kills: number;
  keys?: number;
  /** Kills land uniformly in [0, maxDelayMs] after the child says it is ready (default 1.2 s: a rotation with its git commit takes about that on a busy 2-core machine, so kills hit every step). */
  maxDelayMs?: number;
  log?: (line: string) => void;
}

export interface CrashTestReport {
  kills: number;
  keys: number;
  seconds: number;
  /** Rows per state after the run (done, rolled-back...). */
  journal: Record<string, number>;
  /** The states rotations were in at the moments of the kills. */
  killedIn: Record<string, number>;
  consumerCalls: number;
  consumerFallbacks: number;
  keysWithoutOneWorkingCurrent: number;
  orphanedProviderKeys: number;
  consumerFailures: number;
  stuckJournalEntries: number;
}

export async function runRotationCrashTest(options: CrashTestOptions): Promise<CrashTestReport> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const workDir = mkdtempSync(join(tmpdir(), 'keyledger-crash-'));
  const dataDir = join(workDir, 'data');
  const fingerprintKey = randomBytes(32);
  const masterKey = randomBytes(32);
  const operational = await openOperationalStore({ dataDir });
  const world = await createRotationWorld({
    operational,
    keys: options.keys ?? 4,
    fingerprintKey: { version: 'v1', key: fingerprintKey },
    masterKey,
    consumerRefreshMs: 5,
  });
  const childFile = await bundleChild();
  const env = {
    ...process.env,
    KEYLEDGER_CRASH_CHILD: JSON.stringify({
      dataDir,
      root: world.root,
      keyIds: world.keyIds,
      fingerprintKey: fingerprintKey.toString('hex'),
      masterKey: masterKey.toString('hex'),
    }),
  };
  const killedIn: Record<string, number> = {};
  const startChild = () => {
    const child = spawn(process.execPath, [childFile], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const output = { stderr: '' };
    child.stderr!.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
    const loaded = waitForLine(child, 'loaded', () => output.stderr, 60_000);
    return { child, output, loaded };
  };
  let next = startChild();
  try {
    for (let kill = 1; kill <= options.kills; kill++) {
      const { child, output, loaded } = next;
      await loaded;
      const ready = waitForLine(child, 'ready', () => output.stderr);
      child.stdin!.write('go\n');
      await ready;
      next = startChild(); // loads its modules while this one runs
      await sleep(Math.random() * (options.maxDelayMs ?? 1_200));
      if (child.exitCode !== null)
        throw new Error(`the rotation child exited by itself (${child.exitCode}): ${output.stderr}`);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      await releaseRegistryLockOf(world.root, child.pid!);
      for (const row of await world.journal.unfinished()) killedIn[row.state] = (killedIn[row.state] ?? 0) + 1;
      if (kill % 50 === 0) log(`${kill}/${options.kills} kills, ${Math.round((Date.now() - started) / 1000)}s`);
    }
    // One last child, left alone until it has resumed everything; then stopped the same way.
    const last = next;
    await last.loaded;
    const resumed = waitForLine(last.child, 'resumed', () => last.output.stderr, 300_000);
    last.child.stdin!.write('go\n');
    await resumed.catch(async (error: Error) => {
      // Say what the journal holds, so a rotation that does not end can be told from a slow machine.
      const rows = await world.journal.unfinished();
      throw new Error(
        `${error.message}\nunfinished: ${JSON.stringify(rows.map((row) => ({ key: row.key_id, state: row.state, attempts: row.attempts, failure: row.failure, lease: row.lease_owner, notBefore: row.not_before })))}`,
      );
    });
    last.child.kill('SIGKILL');
    await new Promise((resolve) => last.child.once('exit', resolve));
    await world
      .rotator({ options: { confirmTimeoutMs: 30_000, confirmPollMs: 5, retryBaseMs: 20 } })
      .resumeAll({ waitForRetries: true });
    await sleep(100);
    await world.consumer.callAll();

    let keysWithoutOneWorkingCurrent = 0;
    let orphanedProviderKeys = 0;
    for (const keyId of world.keyIds) {
      const entry = (await world.writer.read(keyId))!.entry;
      const current = await world.store.get(`team/${keyId}`, 'current');
      const works = current ? (await world.provider.verify(current.value)).valid : false;
      if (!current || !works || current.metadata.provider_key_id !== entry.provider_key_id)
        keysWithoutOneWorkingCurrent += 1;
      for await (const key of world.provider.list({ account: entry.scope!.account_id! })) {
        if (key.status === 'active' && key.providerKeyId !== entry.provider_key_id) orphanedProviderKeys += 1;
      }
    }
    const stats = world.consumer.stats();
    const journal = await world.journal.countByState();
    return {
      kills: options.kills,
      keys: world.keyIds.length,
      seconds: (Date.now() - started) / 1000,
      journal,
      killedIn,
      consumerCalls: stats.calls,
      consumerFallbacks: stats.fallbacks,
      keysWithoutOneWorkingCurrent,
      orphanedProviderKeys,
      consumerFailures: stats.failures,
      stuckJournalEntries: (await world.journal.unfinished()).length + (journal.failed ?? 0),
    };
  } finally {
    if (next.child.exitCode === null) next.child.kill('SIGKILL');
    await world.stop();
    await operational.close();
    rmSync(workDir, { recursive: true, force: true });
    rmSync(world.root, { recursive: true, force: true });
  }
}

/** One self-contained ES module for the child, so each of a thousand starts costs node's start, not a compiler's. */
function bundleChild(): Promise<string> {
  return bundleTestChild('rotation-crash-child.ts');
}

/** Bundles a child script of this folder (`rotation-crash-child.ts`, `rotation-rollback-child.ts`) into one module. */
export async function bundleTestChild(fileName: string): Promise<string> {
  const outDir = join(packageRoot(), 'node_modules', '.cache', 'keyledger-crash-test');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${fileName.replace(/\.ts$/, '')}-${process.pid}.mjs`);
  await build({
    entryPoints: [join(dirname(fileURLToPath(import.meta.url)), fileName)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Everything in one file but the native addons: resolving hundreds of small modules is most of a cold start.
    external: ['better-sqlite3', 're2', 'pg-native', 'esbuild'],
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

function waitForLine(child: ChildProcess, line: string, stderr: () => string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`the rotation child did not say "${line}" within ${timeoutMs}ms: ${stderr()}`)),
      timeoutMs,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.split('\n').includes(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the rotation child exited (${code}) before "${line}": ${stderr()}`));
    });
  });
}

/**
 * Removes the registry writer's lock file when the killed child held it. registry-lock.ts takes over a lock whose
 * pid is dead, but with pid_max at 32,768 and thousands of processes spawned here, the dead child's pid is soon
 * reused and the lock then looks held for ever; and a kill between creating the file and writing the pid leaves it
 * empty, which is never taken over (two limits of that module, reported to its owner). The harness does what a
 * pid-plus-start-time check with an age limit would.
 */
async function releaseRegistryLockOf(root: string, pid: number): Promise<void> {
  const gitDir = (await runGit(['rev-parse', '--absolute-git-dir'], { cwd: root })).trim();
  const lockFile = join(gitDir, 'keyledger-writer.lock');
  const text = await readFile(lockFile, 'utf8').catch(() => undefined);
  // Ours, or empty: a process killed between creating the lock file and writing its pid leaves an empty one,
  // which registry-lock.ts never takes over. Only the killed child writes the registry here, so either is its.
  if (text !== undefined && (text.trim() === '' || Number(text.trim()) === pid))
    await unlink(lockFile).catch(() => undefined);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
