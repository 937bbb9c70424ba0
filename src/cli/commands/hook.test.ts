import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../runtime/clock.js';
import { githubToken } from '../../scan/rules/canary-secrets.js';
import { ScratchGitRepo } from '../../scan/sources/scratch-git-repo.js';
import type { CliContext } from '../cli-context.js';
import { main } from '../main.js';

const repos: ScratchGitRepo[] = [];
afterAll(() => {
  for (const repo of repos) repo.remove();
});

function context(repo: ScratchGitRepo): CliContext & { out: () => string } {
  let out = '';
  return {
    stdout: {
      write: (text: string) => {
        out += text;
      },
    },
    stderr: { write: () => undefined },
    cwd: repo.dir,
    env: repo.env,
    clock: fixedClock('2026-11-23T00:00:00Z'),
    color: false,
    exitCode: 0,
    out: () => out,
  };
}

describe('keyledger hook', () => {
  it('installs a pre-commit hook that blocks a commit adding a secret, and uninstalls it', async () => {
    const repo = new ScratchGitRepo();
    repos.push(repo);
    expect(await main(['node', 'keyledger', 'hook', 'install'], context(repo))).toBe(0);
    const hookPath = join(repo.dir, '.git', 'hooks', 'pre-commit');
    expect(readFileSync(hookPath, 'utf8')).toContain('keyledger scan staged');

    // Put a `keyledger` on PATH that runs this checkout's CLI from source, so the real hook runs end to end.
    const bin = join(repo.dir, '.test-bin');
    mkdirSync(bin);
    const mainModule = fileURLToPath(new URL('../main.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
    writeFileSync(
      join(bin, 'keyledger'),
      `#!/bin/sh\nexec "${tsx}" -e 'import("${mainModule}").then(async (m) => { process.exitCode = await m.main(process.argv.slice(0)); })' keyledger "$@"\n`,
    );
    chmodSync(join(bin, 'keyledger'), 0o755);
    const env = { ...repo.env, PATH: `${bin}:${process.env.PATH}` };
    writeFileSync(join(repo.dir, '.gitignore'), '.test-bin/\n');
    writeFileSync(join(repo.dir, 'secret.env'), `TOKEN=${githubToken('ghp', 401)}\n`);
    execFileSync('git', ['add', '.gitignore', 'secret.env'], { cwd: repo.dir, env });
    const blocked = spawnSync('git', ['commit', '-m', 'leak'], { cwd: repo.dir, env, encoding: 'utf8' });
    expect(blocked.status).not.toBe(0);
    expect(blocked.stdout + blocked.stderr).toContain('github-pat');

    writeFileSync(join(repo.dir, 'secret.env'), 'TOKEN=from-the-vault\n');
    execFileSync('git', ['add', 'secret.env'], { cwd: repo.dir, env });
    const allowed = spawnSync('git', ['commit', '-m', 'clean'], { cwd: repo.dir, env, encoding: 'utf8' });
    expect(allowed.status).toBe(0);

    expect(await main(['node', 'keyledger', 'hook', 'uninstall'], context(repo))).toBe(0);
    expect(existsSync(hookPath)).toBe(false);
  }, 60_000);

  it('refuses to replace a hook it did not write unless forced', async () => {
    const repo = new ScratchGitRepo();
    repos.push(repo);
    const hookPath = join(repo.dir, '.git', 'hooks', 'pre-commit');
    writeFileSync(hookPath, '#!/bin/sh\necho mine\n');
    expect(await main(['node', 'keyledger', 'hook', 'install'], context(repo))).toBe(2);
    expect(readFileSync(hookPath, 'utf8')).toContain('echo mine');
    expect(await main(['node', 'keyledger', 'hook', 'install', '--force'], context(repo))).toBe(0);
    expect(readFileSync(hookPath, 'utf8')).toContain('keyledger scan staged');
    rmSync(hookPath);
  });
});
