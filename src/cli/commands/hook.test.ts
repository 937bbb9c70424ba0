import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../runtime/clock.js';
import { installedKeyledger } from '../../runtime/installed-keyledger.js';
import { githubToken } from '../../scan/rules/canary-secrets.js';
import { ScratchGitRepo } from '../../scan/sources/scratch-git-repo.js';
import type { CliContext } from '../cli-context.js';
import { main } from '../main.js';
import { preCommitHookScript } from './hook.js';

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

function which(command: string): string {
  return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim();
}

/** A PATH holding git and nothing else: no keyledger, no npx, no npm, no node. */
function pathWithOnlyGit(repo: ScratchGitRepo): string {
  const bin = join(repo.dir, '.only-git');
  mkdirSync(bin);
  symlinkSync(which('git'), join(bin, 'git'));
  return bin;
}

/** A `keyledger` command that runs this checkout's CLI from source, as an installed one on PATH would. */
function keyledgerFromSourceOnPath(repo: ScratchGitRepo): string {
  const bin = join(repo.dir, '.test-bin');
  mkdirSync(bin);
  const mainModule = fileURLToPath(new URL('../main.ts', import.meta.url));
  const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
  writeFileSync(
    join(bin, 'keyledger'),
    `#!/bin/sh\nexec "${tsx}" -e 'import("${mainModule}").then(async (m) => { process.exitCode = await m.main(process.argv.slice(0)); })' keyledger "$@"\n`,
  );
  chmodSync(join(bin, 'keyledger'), 0o755);
  return bin;
}

function commit(repo: ScratchGitRepo, env: NodeJS.ProcessEnv, file: string, text: string) {
  writeFileSync(join(repo.dir, file), text);
  execFileSync(which('git'), ['add', file], { cwd: repo.dir, env });
  return spawnSync(which('git'), ['commit', '-m', `change ${file}`], { cwd: repo.dir, env, encoding: 'utf8' });
}

describe('keyledger hook', () => {
  it('installs a hook that runs the keyledger that installed it, with keyledger and npx off PATH', async () => {
    // The symptom of issue 13: the hook ran `npx keyledger`, so where keyledger was not on PATH every commit, even
    // a clean one, failed (npm 404, or no npx at all). Runs bin/keyledger.js, so needs dist/ (`npm run build`).
    const repo = new ScratchGitRepo();
    repos.push(repo);
    const cli = context(repo);
    expect(await main(['node', 'keyledger', 'hook', 'install', '--json'], cli)).toBe(0);
    const hookPath = join(repo.dir, '.git', 'hooks', 'pre-commit');
    const self = installedKeyledger();
    expect(JSON.parse(cli.out())).toEqual({
      installed: hookPath,
      replaced: false,
      runs: { node: self.node, script: self.script },
    });
    const hook = readFileSync(hookPath, 'utf8');
    expect(hook).not.toContain('npx');
    expect(hook).toContain(`KEYLEDGER_SCRIPT='${self.script}'`);

    const env = { ...repo.env, PATH: pathWithOnlyGit(repo) };
    writeFileSync(join(repo.dir, '.gitignore'), '.only-git/\n');
    const clean = commit(repo, env, 'app.env', 'TOKEN=from-the-vault\n');
    expect(clean.status).toBe(0);
    const blocked = commit(repo, env, 'secret.env', `TOKEN=${githubToken('ghp', 401)}\n`);
    expect(blocked.status).not.toBe(0);
    expect(blocked.stdout + blocked.stderr).toContain('github-pat');
    expect(repo.git('log', '--format=%s')).toBe('change app.env');

    expect(await main(['node', 'keyledger', 'hook', 'uninstall'], context(repo))).toBe(0);
    expect(existsSync(hookPath)).toBe(false);
  }, 60_000);

  it('falls back to keyledger on PATH when the one that installed the hook is gone', async () => {
    const repo = new ScratchGitRepo();
    repos.push(repo);
    const hookPath = join(repo.dir, '.git', 'hooks', 'pre-commit');
    const gone = { node: '/nonexistent/bin/node', script: '/nonexistent/keyledger/bin/keyledger.js', version: '' };
    writeFileSync(hookPath, preCommitHookScript('', gone), { mode: 0o755 });
    const env = { ...repo.env, PATH: `${keyledgerFromSourceOnPath(repo)}:${process.env.PATH}` };
    writeFileSync(join(repo.dir, '.gitignore'), '.test-bin/\n');
    const blocked = commit(repo, env, 'secret.env', `TOKEN=${githubToken('ghp', 402)}\n`);
    expect(blocked.status).not.toBe(0);
    expect(blocked.stdout + blocked.stderr).toContain('github-pat');
    const clean = commit(repo, env, 'secret.env', 'TOKEN=from-the-vault\n');
    expect(clean.status).toBe(0);
  }, 60_000);

  it('fails with a clear message, not a registry lookup, where no keyledger is found', async () => {
    const repo = new ScratchGitRepo();
    repos.push(repo);
    const hookPath = join(repo.dir, '.git', 'hooks', 'pre-commit');
    const gone = { node: '/nonexistent/bin/node', script: "/nonexistent/it's/bin/keyledger.js", version: '' };
    writeFileSync(hookPath, preCommitHookScript('', gone), { mode: 0o755 });
    const env = { ...repo.env, PATH: pathWithOnlyGit(repo) };
    writeFileSync(join(repo.dir, '.gitignore'), '.only-git/\n');
    const result = commit(repo, env, 'app.env', 'TOKEN=from-the-vault\n');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(
      "keyledger pre-commit hook: keyledger not found: not at /nonexistent/it's/bin/keyledger.js (run by /nonexistent/bin/node), not on PATH.",
    );
    expect(result.stderr).toContain('git commit --no-verify');
    expect(result.stderr).not.toMatch(/npm|404/);
  });

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
