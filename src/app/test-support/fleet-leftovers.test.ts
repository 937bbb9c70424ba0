import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, reapFleetLeftovers } from './fleet-leftovers.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'keyledger-fleet-leftovers-'));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(cacheDir, { recursive: true, force: true });
});

/** A bundle folder of harness `owner` with a script that runs until killed, started as a "replica". */
function bundleWithReplica(owner: number): { bundle: string; replica: ChildProcess; exited: Promise<string | null> } {
  const bundle = join(cacheDir, `keyledger-fleet-${owner}`);
  mkdirSync(bundle, { recursive: true });
  writeFileSync(join(bundle, 'keyledger-cli.js'), 'setInterval(() => {}, 1000);\n');
  const replica = spawn(process.execPath, [join(bundle, 'keyledger-cli.js'), 'server'], { stdio: 'ignore' });
  children.push(replica);
  const exited = new Promise<string | null>((resolve) => replica.once('exit', (_code, signal) => resolve(signal)));
  return { bundle, replica, exited };
}

describe.runIf(process.platform === 'linux')('reapFleetLeftovers', () => {
  it("kills the replicas of a harness process that is gone and removes its bundle; a live harness's stay", async () => {
    // A pid that was a process and is no more.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    expect(isAlive(gone)).toBe(false);
    const live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(live);
    const orphaned = bundleWithReplica(gone);
    const kept = bundleWithReplica(live.pid!);
    // Both replicas are running before the reaping.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(isAlive(orphaned.replica.pid!)).toBe(true);

    const reaped = reapFleetLeftovers(cacheDir);

    expect(reaped.bundles).toEqual([orphaned.bundle]);
    expect(reaped.processes).toEqual([orphaned.replica.pid]);
    expect(await orphaned.exited).toBe('SIGKILL');
    expect(existsSync(orphaned.bundle)).toBe(false);
    expect(existsSync(kept.bundle)).toBe(true);
    expect(isAlive(kept.replica.pid!)).toBe(true);
  });

  it('does nothing where no bundle folder is left', () => {
    expect(reapFleetLeftovers(join(cacheDir, 'missing'))).toEqual({ bundles: [], processes: [] });
  });
});
