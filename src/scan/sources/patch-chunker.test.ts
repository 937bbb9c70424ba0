import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { gitLogArguments } from '../scanner.js';
import { parseGitPatch, RECORD_SEPARATOR } from './git-patch-parser.js';
import { type PatchChunk, PatchChunker } from './patch-chunker.js';
import { ScratchGitRepo } from './scratch-git-repo.js';

const repos: ScratchGitRepo[] = [];
afterAll(() => {
  for (const repo of repos) repo.remove();
});

/** A history with small commits around one commit of many files and one of a file bigger than the target. */
function historyPatch(): Buffer {
  const repo = new ScratchGitRepo();
  repos.push(repo);
  repo.write('a.txt', 'one\n').commit('small first');
  for (let file = 0; file < 40; file++) {
    const lines = Array.from({ length: 30 }, (_, line) => `file ${file} line ${line} value=${file * 1000 + line}`);
    repo.write(`many/file-${file}.txt`, `${lines.join('\n')}\n`);
  }
  repo.commit('one commit of 40 files\n\nwith a body that says\ndiff --git a/fake b/fake\nin it');
  repo.write('big.txt', `${Array.from({ length: 600 }, (_, line) => `big line ${line}`).join('\n')}\n`);
  repo.write('a.txt', 'two\n').commit('one file bigger than the target');
  repo.write('a.txt', 'three\n').commit('small last');
  return execFileSync('git', gitLogArguments({}), { cwd: repo.dir, env: repo.env, maxBuffer: 1 << 26 });
}

function chunksOf(patch: Buffer, target: number, readSize: number): PatchChunk[] {
  const chunker = new PatchChunker(target);
  const chunks: PatchChunk[] = [];
  for (let at = 0; at < patch.length; at += readSize) chunks.push(...chunker.push(patch.subarray(at, at + readSize)));
  const last = chunker.end();
  if (last) chunks.push(last);
  return chunks;
}

function commitsCounted(chunks: PatchChunk[]): number {
  let commits = 0;
  for (const chunk of chunks) {
    for (let at = chunk.data.indexOf(RECORD_SEPARATOR); at >= 0; at = chunk.data.indexOf(RECORD_SEPARATOR, at + 1))
      commits += 1;
    if (chunk.continued) commits -= 1;
  }
  return commits;
}

const summary = (fragments: ReturnType<typeof parseGitPatch>) =>
  fragments.map((fragment) => ({
    path: fragment.path,
    sha: fragment.commit?.sha,
    message: fragment.commit?.message,
    lines: fragment.lineNumbers,
    data: fragment.data.toString('utf8'),
  }));

describe('PatchChunker', () => {
  const patch = historyPatch();
  const whole = summary(parseGitPatch(patch));

  it.each([
    [64 * 1024, 7],
    [2048, 1],
    [2048, 333],
    [512, 4096],
  ])('cuts at commits and files so each chunk parses as the whole did (target %i, reads of %i)', (target, read) => {
    const chunks = chunksOf(patch, target, read);
    expect(chunks.length).toBeGreaterThan(target >= patch.length ? 0 : 1);
    expect(summary(chunks.flatMap((chunk) => parseGitPatch(chunk.data)))).toEqual(whole);
    expect(commitsCounted(chunks)).toBe(4);
    // Each chunk's memory is its own, so the pool can transfer it to a worker without a copy.
    expect(chunks.every((chunk) => chunk.data.byteOffset === 0)).toBe(true);
    expect(new Set(chunks.map((chunk) => chunk.data.buffer)).size).toBe(chunks.length);
  });

  it('splits one large commit at its files, repeating its header, and never inside the message', () => {
    const chunks = chunksOf(patch, 2048, 1000);
    const continued = chunks.filter((chunk) => chunk.continued);
    for (const chunk of continued) expect(chunk.data[0]).toBe(RECORD_SEPARATOR);
    const ofLargeCommit = continued.filter((chunk) => chunk.data.toString('utf8').includes('one commit of 40 files'));
    expect(ofLargeCommit.length).toBeGreaterThan(3);
    for (const chunk of ofLargeCommit) {
      // The header's five fields, then straight on to the next file's diff (not the message's `diff --git` line).
      const fields = chunk.data.toString('utf8').split('\x1f');
      expect(fields[5]).toMatch(/^diff --git a\/many\//);
    }
    // No chunk is much bigger than the target, except the one holding the file bigger than the target.
    const oversized = chunks.filter((chunk) => chunk.data.length > 4096);
    expect(oversized).toHaveLength(1);
    expect(oversized[0]?.data.toString('utf8')).toContain('+big line 599');
  });

  it('cuts a header-less diff (staged changes) at its files', () => {
    const files = Array.from(
      { length: 30 },
      (_, file) =>
        `diff --git a/f${file} b/f${file}\n--- a/f${file}\n+++ b/f${file}\n@@ -0,0 +1,2 @@\n+x${file}\n+y${file}\n`,
    ).join('');
    const diff = Buffer.from(files);
    const chunks = chunksOf(diff, 200, 50);
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.every((chunk) => !chunk.continued && chunk.data.toString().startsWith('diff --git'))).toBe(true);
    expect(summary(chunks.flatMap((chunk) => parseGitPatch(chunk.data)))).toEqual(summary(parseGitPatch(diff)));
  });
});
