// The write probe every store's `checkWritable` runs (secret-store.ts): a throw-away secret written beside the path a
// key will go to, then deleted, so a preflight (src/lifecycle/preflight/) learns that the store is reachable, that
// its credentials work and that its policy allows writes there — before a key exists that would need a home.
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path/posix';
import { secretPathProblem } from './secret-path.js';
import type { SecretStore } from './secret-store.js';
import { SecretValue } from './secret-value.js';

const PROBE_SUFFIX = '.keyledger-preflight';

/** Where the probe of `path` is written: its sibling `<path>.keyledger-preflight` (same folder, same policy). */
export function writeProbePath(path: string): string {
  const sibling = `${path}${PROBE_SUFFIX}`;
  if (!secretPathProblem(sibling)) return sibling;
  // Too long, or `path` itself is not a valid path (the store's own put then says why).
  const folder = dirname(path);
  return folder === '.' || secretPathProblem(folder)
    ? `keyledger${PROBE_SUFFIX}`
    : `${folder}/keyledger${PROBE_SUFFIX}`;
}

/** Writes a random non-secret value at the probe path of `path` and deletes it again. */
export async function runWriteProbe(store: Pick<SecretStore, 'put' | 'delete'>, path: string): Promise<void> {
  const probe = writeProbePath(path);
  try {
    await store.put(probe, new SecretValue(`keyledger-preflight-${randomBytes(8).toString('hex')}`), {
      stage: 'current',
      metadata: { purpose: 'keyledger-preflight' },
    });
  } catch (error) {
    // A put that failed half-way may have left a version: deleting a missing path is not an error.
    await store.delete(probe).catch(() => undefined);
    throw error;
  }
  await store.delete(probe);
}
