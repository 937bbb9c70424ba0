// Writes a file so that a crash at any moment leaves either the old content or the new, never half of it:
// write a temporary file in the same directory, flush it to disk, then rename it over the target.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const temporary = await stageFile(path, content);
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/**
 * The first half of writeFileAtomic: `content` written and flushed to a temporary file beside `path`, whose name
 * it returns. Renaming it over `path` is the second half, cheap enough to do under a lock (bulk issuance stages its
 * entries before taking the registry lock: src/lifecycle/bulk-key-issuance.ts).
 */
export async function stageFile(path: string, content: string): Promise<string> {
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // The directory is made only when missing: a mkdir per file was one file-system call in five of a bulk issuance.
  const handle = await open(temporary, 'wx', 0o644).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
    await mkdir(directory, { recursive: true });
    return open(temporary, 'wx', 0o644);
  });
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  return temporary;
}
