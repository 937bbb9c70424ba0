// The batch committer on its own (rotation's use of it: src/lifecycle/rotation/registry-rotation-batcher.test.ts):
// new files committed together in one commit; a change that cannot be applied fails alone; a failed commit puts
// every change of its batch back and fails them all, leaving the tree clean.
import { mkdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runGit } from '../git/git-command.js';
import { type RegistryBatchChange, RegistryBatchCommitter } from './registry-batch-committer.js';
import { defaultRegistryConfig } from './registry-config.js';
import { RegistryWriter } from './registry-writer.js';
import { GIT_TEST_ENV, makeRegistry, seedExampleWith } from './test-support/registry-fixtures.js';

const roots: string[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
});

async function setup() {
  const root = await makeRegistry({ 'README.md': 'registry\n' }, { git: true });
  roots.push(root);
  const writer = new RegistryWriter({ root, config: defaultRegistryConfig(), env: GIT_TEST_ENV });
  const seenBeforeApply: string[][] = [];
  const committer = new RegistryBatchCommitter({
    root,
    writer,
    gitEnv: GIT_TEST_ENV,
    lingerMs: 20,
    subject: (count) => `keyledger: test ${count} change(s)`,
    beforeApply: async (keyIds) => {
      seenBeforeApply.push(keyIds);
    },
  });
  const git = (...args: string[]) => runGit(args, { cwd: root, env: GIT_TEST_ENV });
  return { root, writer, committer, git, seenBeforeApply };
}

function creation(root: string, keyId: string): RegistryBatchChange {
  const file = `keys/team/${keyId}.yaml`;
  return {
    keyId,
    summary: `created ${keyId}`,
    apply: async () => {
      await mkdir(join(root, 'keys/team'), { recursive: true });
      await writeFile(join(root, file), seedExampleWith(keyId), { flag: 'wx' });
      return { file, written: true, created: true };
    },
    revert: async (path) => unlink(join(root, path)),
  };
}

describe('RegistryBatchCommitter', () => {
  it('commits new files submitted together in one commit and tells the writer where they are', async () => {
    const { root, writer, committer, git, seenBeforeApply } = await setup();
    const before = Number((await git('rev-list', '--count', 'HEAD')).trim());
    const results = await Promise.all(['a-1', 'a-2', 'a-3'].map((keyId) => committer.submit(creation(root, keyId))));
    const head = (await git('rev-parse', 'HEAD')).trim();
    expect(results).toEqual(['a-1', 'a-2', 'a-3'].map((keyId) => ({ file: `keys/team/${keyId}.yaml`, commit: head })));
    expect(Number((await git('rev-list', '--count', 'HEAD')).trim())).toBe(before + 1);
    expect(committer.commits).toBe(1);
    expect(seenBeforeApply).toEqual([['a-1', 'a-2', 'a-3']]);
    expect(await git('log', '-1', '--format=%B')).toBe(
      'keyledger: test 3 change(s)\n\na-1: created a-1\na-2: created a-2\na-3: created a-3\n\n',
    );
    expect((await git('status', '--porcelain')).trim()).toBe('');
    expect(await writer.filesOf(['a-2', 'nope'])).toEqual(new Map([['a-2', 'keys/team/a-2.yaml']]));
  });

  it('a change that cannot be applied fails alone; the rest of its batch is committed', async () => {
    const { root, committer, git } = await setup();
    const broken: RegistryBatchChange = {
      keyId: 'b-broken',
      summary: 'never',
      apply: async () => {
        throw new Error('cannot apply b-broken');
      },
    };
    const settled = await Promise.allSettled([
      committer.submit(creation(root, 'b-1')),
      committer.submit(broken),
      committer.submit(creation(root, 'b-2')),
    ]);
    expect(settled.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason.message).toBe('cannot apply b-broken');
    expect(await git('log', '-1', '--format=%B')).toContain('keyledger: test 2 change(s)');
    expect((await git('status', '--porcelain')).trim()).toBe('');
  });

  it('a failed commit reverts every change of the batch, fails them all, and leaves the tree clean', async () => {
    const { root, committer, git } = await setup();
    const gitDir = (await git('rev-parse', '--absolute-git-dir')).trim();
    await writeFile(join(gitDir, 'index.lock'), '');
    const settled = await Promise.allSettled(['c-1', 'c-2'].map((keyId) => committer.submit(creation(root, keyId))));
    for (const result of settled) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toMatchObject({
        code: 'E_REGISTRY_COMMIT',
        message: /the registry batch of 2 change\(s\) could not be committed: .*index\.lock/,
      });
    }
    await unlink(join(gitDir, 'index.lock'));
    expect((await git('status', '--porcelain')).trim()).toBe('');
    expect(committer.commits).toBe(0);
    await expect(readFile(join(root, 'keys/team/c-1.yaml'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    // The next batch commits normally.
    await committer.submit(creation(root, 'c-3'));
    expect((await git('ls-files', 'keys')).trim()).toBe('keys/team/c-3.yaml');
  });
});
