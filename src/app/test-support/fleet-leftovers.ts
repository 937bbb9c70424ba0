// Leftovers of a fleet harness whose process died without stopping its world (vitest killed with SIGKILL, a machine
// that ran out of memory): its replicas keep running — each a `keyledger server` child started from the CLI bundle in
// node_modules/.cache/keyledger-fleet-<pid> (fleet-harness.ts), holding ports and PostgreSQL connections and rotating
// against a sandbox that is gone — and its bundle stays on disk. A world's set-up reaps them: every bundle folder
// whose <pid> is no longer a live process, and every process started from it. Linux only (/proc); elsewhere nothing.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const BUNDLE_FOLDER = /^keyledger-fleet-(\d+)$/;

export interface ReapedLeftovers {
  /** Bundle folders removed, each of a harness process that is gone. */
  bundles: string[];
  /** Processes killed (SIGKILL) because they ran a removed bundle. */
  processes: number[];
}

/** Whether `pid` is a live process (one this user may signal, or another user's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command lines of the machine's processes, by pid (none where /proc is missing). */
function commandLines(): Map<number, string> {
  const lines = new Map<number, string>();
  if (!existsSync('/proc')) return lines;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      lines.set(Number(name), readFileSync(join('/proc', name, 'cmdline'), 'utf8').replaceAll('\0', ' '));
    } catch {
      // The process ended while the list was read.
    }
  }
  return lines;
}

/** Kills what dead harnesses left under `cacheDir` (node_modules/.cache) and removes their bundles. */
export function reapFleetLeftovers(
  cacheDir: string,
  processes: () => Map<number, string> = commandLines,
): ReapedLeftovers {
  const reaped: ReapedLeftovers = { bundles: [], processes: [] };
  if (!existsSync(cacheDir)) return reaped;
  const orphaned = readdirSync(cacheDir)
    .map((name) => ({ name, owner: Number(BUNDLE_FOLDER.exec(name)?.[1] ?? Number.NaN) }))
    .filter(({ owner }) => Number.isInteger(owner) && owner !== process.pid && !isAlive(owner))
    .map(({ name }) => join(cacheDir, name));
  if (orphaned.length === 0) return reaped;
  for (const [pid, command] of processes()) {
    if (pid === process.pid || !orphaned.some((bundle) => command.includes(`${bundle}/`))) continue;
    try {
      process.kill(pid, 'SIGKILL');
      reaped.processes.push(pid);
    } catch {
      // Gone already.
    }
  }
  for (const bundle of orphaned) {
    rmSync(bundle, { recursive: true, force: true });
    reaped.bundles.push(bundle);
  }
  return reaped;
}
