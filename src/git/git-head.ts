// Reads the commit HEAD points at from the repository's files. Spawning `git rev-parse HEAD` after every registry
// commit cost as much as the commit itself (a fork of a large process), and the files say the same thing.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The commit id HEAD resolves to, or undefined when the files do not say plainly (then ask git). */
export async function readHeadCommit(gitDir: string, commonDir: string): Promise<string | undefined> {
  const head = (await readFile(join(gitDir, 'HEAD'), 'utf8').catch(() => '')).trim();
  if (/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(head)) return head;
  const ref = /^ref: (refs\/[^\s]+)$/.exec(head)?.[1];
  if (!ref) return undefined;
  for (const dir of [gitDir, commonDir]) {
    const loose = (await readFile(join(dir, ref), 'utf8').catch(() => '')).trim();
    if (/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(loose)) return loose;
  }
  const packed = await readFile(join(commonDir, 'packed-refs'), 'utf8').catch(() => '');
  for (const line of packed.split('\n')) {
    const [id, name] = line.split(' ');
    if (name === ref && id && /^[0-9a-f]{40}/.test(id)) return id;
  }
  return undefined;
}
