// The stamps a worker thread takes are the ones stampFile takes on the calling thread: for files, for paths that
// are missing or not files; and a path whose stat fails otherwise is stamped on the calling thread again, which throws
// as stampFile does.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stampFilesInWorker } from './file-stamp-worker.js';
import { stampFile } from './registry-load-cache.js';

describe('stampFilesInWorker', () => {
  it('gives what stampFile gives for each file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'keyledger-stamps-'));
    await mkdir(join(root, 'keys', 'team'), { recursive: true });
    const files = Array.from({ length: 300 }, (_, i) => `keys/team/k${i}.yaml`);
    for (const [i, file] of files.entries()) await writeFile(join(root, file), 'x'.repeat(i));
    const asked = [...files, 'keys/missing.yaml', 'keys/team'];
    const stamps = await stampFilesInWorker(root, asked);
    expect(stamps).toEqual(asked.map((file) => stampFile(join(root, file))));
    expect(stamps[299]).toMatchObject({ size: 299 });
    expect(stamps.slice(-2)).toEqual([undefined, undefined]);
  });

  it('fails as stampFile fails where a stat fails otherwise (a file taken for a directory)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'keyledger-stamps-'));
    await writeFile(join(root, 'k.yaml'), 'x');
    expect(() => stampFile(join(root, 'k.yaml/below'))).toThrow(/ENOTDIR/);
    await expect(stampFilesInWorker(root, ['k.yaml', 'k.yaml/below'])).rejects.toThrow(/ENOTDIR/);
  });

  it('gives nothing for no files', async () => {
    expect(await stampFilesInWorker(tmpdir(), [])).toEqual([]);
  });
});
