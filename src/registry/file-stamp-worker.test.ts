// The stamps a worker thread takes are the ones stampFile takes on the calling thread: for files, for paths that
// are missing or not files; and a path whose stat fails otherwise is stamped on the calling thread again, which throws
// as stampFile does.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFileStamping } from './file-stamp-worker.js';
import { stampFile } from './registry-load-cache.js';

describe('startFileStamping', () => {
  it('gives what stampFile gives for each file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'keyledger-stamps-'));
    await mkdir(join(root, 'keys', 'team'), { recursive: true });
    const files = Array.from({ length: 300 }, (_, i) => `keys/team/k${i}.yaml`);
    for (const [i, file] of files.entries()) await writeFile(join(root, file), 'x'.repeat(i));
    const asked = [...files, 'keys/missing.yaml', 'keys/team'];
    const stamps = await startFileStamping(root, asked).finish();
    expect(stamps).toEqual(asked.map((file) => stampFile(join(root, file))));
    expect(stamps[299]).toMatchObject({ size: 299 });
    expect(stamps.slice(-2)).toEqual([undefined, undefined]);
  });

  it('gives the same whether the worker stamps every file, or the calling thread most of them', async () => {
    const root = await mkdtemp(join(tmpdir(), 'keyledger-stamps-'));
    const files = Array.from({ length: 3_000 }, (_, i) => `k${i}.yaml`);
    for (const [i, file] of files.entries()) await writeFile(join(root, file), 'x'.repeat(i % 7));
    const expected = files.map((file) => stampFile(join(root, file)));

    const byWorker = startFileStamping(root, files);
    for (let waited = 0; byWorker.stampedByWorker() < files.length && waited < 20_000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(byWorker.stampedByWorker()).toBe(files.length);
    expect(await byWorker.finish()).toEqual(expected);

    // Finished at once: the calling thread claims what the worker has not started.
    const together = startFileStamping(root, files);
    expect(await together.finish()).toEqual(expected);
    expect(together.stampedByWorker()).toBeLessThan(files.length);
  });

  it('fails as stampFile fails where a stat fails otherwise (a file taken for a directory)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'keyledger-stamps-'));
    await writeFile(join(root, 'k.yaml'), 'x');
    expect(() => stampFile(join(root, 'k.yaml/below'))).toThrow(/ENOTDIR/);
    await expect(startFileStamping(root, ['k.yaml', 'k.yaml/below']).finish()).rejects.toThrow(/ENOTDIR/);
  });

  it('gives nothing for no files', async () => {
    expect(await startFileStamping(tmpdir(), []).finish()).toEqual([]);
  });
});
