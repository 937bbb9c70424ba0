// Serialises registry writers: a promise queue inside the process and a lock file beside git's own for writers in
// other processes. A lock left by a process that died is taken over, so a crash never wedges the registry.
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { KeyledgerError } from '../errors/keyledger-error.js';

const inProcessQueues = new Map<string, Promise<unknown>>();

export interface LockOptions {
  timeoutMs?: number;
  pollMs?: number;
}

export async function withRegistryLock<T>(
  lockFile: string,
  work: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const previous = inProcessQueues.get(lockFile) ?? Promise.resolve();
  const run = previous
    .catch(() => undefined)
    .then(async () => {
      await acquireFileLock(lockFile, options);
      try {
        return await work();
      } finally {
        await unlink(lockFile).catch(() => undefined);
      }
    });
  inProcessQueues.set(lockFile, run);
  try {
    return await run;
  } finally {
    if (inProcessQueues.get(lockFile) === run) inProcessQueues.delete(lockFile);
  }
}

async function acquireFileLock(lockFile: string, { timeoutMs = 60_000, pollMs = 15 }: LockOptions): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await holderIsGone(lockFile)) {
      await unlink(lockFile).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) {
      throw new KeyledgerError(
        'E_REGISTRY_LOCKED',
        `the registry is locked by another writer (${lockFile}); try again`,
        {
          category: 'conflict',
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs + Math.random() * pollMs));
  }
}

/**
 * A lock is stale when its holder is gone: its pid no longer runs, or the file has sat unchanged for longer than
 * any registry write takes — which also covers a pid reused by an unrelated process after the holder died, and a
 * holder killed between creating the file and writing its pid (an empty file).
 */
async function holderIsGone(lockFile: string): Promise<boolean> {
  const [text, info] = await Promise.all([
    readFile(lockFile, 'utf8').catch(() => ''),
    stat(lockFile).catch(() => undefined),
  ]);
  if (!info) return false;
  const age = Date.now() - info.mtimeMs;
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return age > EMPTY_LOCK_GRACE_MS;
  if (pid === process.pid) return false;
  if (age > MAX_HOLD_MS) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** A writer writes its pid right after creating the file; an empty file older than this was left by a crash. */
const EMPTY_LOCK_GRACE_MS = 2_000;
/** No registry write (one file and one commit) holds the lock this long; an older lock belongs to a dead holder. */
const MAX_HOLD_MS = 120_000;
