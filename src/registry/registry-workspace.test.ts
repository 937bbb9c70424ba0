// findRegistryRoot: which registry a directory belongs to (what every command's --registry resolves to).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findRegistryRoot } from './registry-workspace.js';
import { makeRegistry } from './test-support/registry-fixtures.js';

describe('findRegistryRoot', () => {
  it('finds the directory holding keyledger.config.yaml from itself or any folder below it', async () => {
    const root = await makeRegistry({ 'keyledger.config.yaml': '', 'keys/payments/a.yaml': '' });
    expect(await findRegistryRoot(root)).toBe(root);
    expect(await findRegistryRoot(join(root, 'keys', 'payments'))).toBe(root);
  });

  it('takes a directory with a keys/ folder and no config as a registry on the defaults, but not its parents', async () => {
    const root = await makeRegistry({ 'keys/a.yaml': '' });
    expect(await findRegistryRoot(root)).toBe(root);
    expect(await findRegistryRoot(join(root, 'keys'))).toBeUndefined();
  });

  it('stops at the top of the git work tree, and answers undefined for a missing or plain directory', async () => {
    const outer = await makeRegistry({ 'keyledger.config.yaml': '' });
    const repo = join(outer, 'checkout');
    await mkdir(join(repo, 'src'), { recursive: true });
    // A worktree or submodule has a .git file rather than a folder: it ends the work tree just the same.
    await writeFile(join(repo, '.git'), 'gitdir: /elsewhere\n');
    expect(await findRegistryRoot(join(repo, 'src'))).toBeUndefined();
    expect(await findRegistryRoot(join(outer, 'no-such-dir'))).toBeUndefined();
    expect(await findRegistryRoot(await makeRegistry({ 'README.md': '' }))).toBeUndefined();
  });
});
