// Serialises registry writers: a promise queue inside the process and a lock file beside git's own for writers in
// other processes. A lock left by a process that died is taken over, so a crash never wedges the registry.
import { open, readFile, unlink } from 'node:fs/promises';
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

async function holderIsGone(lockFile: string): Promise<boolean> {
  const pid = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
