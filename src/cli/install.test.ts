// keyledger installed the ways users install it (issue 13, item 7): `npm pack` in a clone of HEAD, that tarball
// installed with `npm install --global` into a scratch prefix by the very install step of the CI workflow that
// `keyledger init` writes, then the installed CLI run for real (init, validate, the pre-commit hook with keyledger
// and npx off PATH); and `npm install --global git+file://` of the same clone, which npm < 12 cannot do (see
// scripts/check-build-dependencies.mjs) and must refuse with the message saying how to install instead.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { packageRoot } from '../runtime/package-paths.js';
import { githubToken } from '../scan/rules/canary-secrets.js';
import { nativeAddonMirror } from './test-support/native-addon-mirror.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { ...options, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const root = packageRoot();
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const scratch = mkdtempSync(join(tmpdir(), 'keyledger-install-'));
// Two installs of ~330 packages: removing them takes a while on a busy disk, so asynchronously and unhurried.
afterAll(() => rm(scratch, { recursive: true, force: true }), 300_000);

// The environment of a user's shell: none of the npm_* variables `npm test` exports, npm's cache as filled by the
// root `npm install` (--prefer-offline), and the addons' installers pointed at the root's compiled binaries.
const userEnv: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_|^INIT_CWD$/i.test(name))),
  GIT_AUTHOR_NAME: 'Ada Lovelace',
  GIT_AUTHOR_EMAIL: 'ada@example.com',
  GIT_COMMITTER_NAME: 'Ada Lovelace',
  GIT_COMMITTER_EMAIL: 'ada@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  npm_config_prefer_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};
const systemPath = `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`;
const checkout = join(scratch, 'checkout');
const prefix = join(scratch, 'prefix');
const gitPrefix = join(scratch, 'git-prefix');
let npmMajor = 0;
let tarball = '';
let packOutput = '';
let gitInstall: Promise<Run>;
let installStep: Run;
let workflow: { jobs: { validate: { steps: { name?: string; run?: string }[] } } };

function installedKeyledger(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return run(join(prefix, 'bin', 'keyledger'), args, { cwd, env: { ...userEnv, PATH: systemPath, ...env } });
}

function stepScript(name: string): string {
  const script = workflow.jobs.validate.steps.find((step) => step.name === name)?.run;
  if (!script) throw new Error(`the workflow has no step ${name}`);
  return script.replaceAll(/\$\{\{ github\.event_name \}\}/g, 'push');
}

beforeAll(async () => {
  const npmVersion = await run('npm', ['--version'], { cwd: scratch, env: userEnv });
  npmMajor = Number.parseInt(npmVersion.stdout, 10);
  const clone = await run('git', ['clone', '--quiet', root, checkout], { cwd: scratch, env: userEnv });
  expect(clone.stderr).toBe('');
  // The git route and the tarball route run side by side: each spends most of its time waiting on npm.
  gitInstall = run('npm', ['install', '--global', '--prefix', gitPrefix, `git+file://${checkout}`], {
    cwd: scratch,
    env: userEnv,
  });
  // `npm pack` runs `prepare` (the build) in the clone, with the root's devDependencies.
  symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'));
  // Plain `npm pack`, whose stdout the pre-commit framework takes for the tarball's name (see .npmrc).
  const pack = await run('npm', ['pack', '--pack-destination', scratch], { cwd: checkout, env: userEnv });
  expect(pack.code, pack.stderr).toBe(0);
  packOutput = pack.stdout;
  tarball = join(scratch, `keyledger-${manifest.version}.tgz`);

  // Installs the tarball with the install step of the workflow `keyledger init` writes (this checkout's template).
  const { workflowTemplate } = await import('../registry/registry-scaffold.js');
  workflow = parse(workflowTemplate(tarball)) as typeof workflow;
  const mirror = nativeAddonMirror(join(root, 'node_modules'), join(scratch, 'native-addons'));
  installStep = await run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', stepScript('install keyledger')], {
    cwd: scratch,
    env: {
      ...userEnv,
      ...mirror,
      KEYLEDGER_PACKAGE: tarball,
      npm_config_prefix: prefix,
      PATH: `${prefix}/bin:${systemPath}`,
    },
  });
}, 900_000);

describe('installing keyledger', () => {
  it('packs a tarball with the CLI, the shrinkwrap and no sources', () => {
    expect(packOutput).toBe(`keyledger-${manifest.version}.tgz\n`);
    const files = readdirSync(join(checkout, 'dist', 'cli'));
    expect(files).toContain('main.js');
    expect(existsSync(tarball)).toBe(true);
    const installed = join(prefix, 'lib', 'node_modules', 'keyledger');
    expect(readdirSync(installed).sort()).toEqual(
      [
        'README.md',
        'bin',
        'dist',
        'node_modules',
        'npm-shrinkwrap.json',
        'package.json',
        '.pre-commit-hooks.yaml',
      ].sort(),
    );
    expect(
      readdirSync(join(installed, 'dist'), { recursive: true }).filter((file) => String(file).endsWith('.test.js')),
    ).toEqual([]);
  });

  it('installs the tarball with the CI workflow install step, into a working keyledger', async () => {
    expect(installStep.code, installStep.stderr).toBe(0);
    expect(installStep.stdout.trim().split('\n').at(-1)).toBe(manifest.version);
    const version = await installedKeyledger(['--version'], scratch);
    expect(version.stdout.trim()).toBe(manifest.version);
    // The operational store's native addon loads from the installed tree (re2 runs in validate and the hook below).
    const sqlite = join(prefix, 'lib', 'node_modules', 'keyledger', 'node_modules', 'better-sqlite3');
    const query = `console.log(new (require(${JSON.stringify(sqlite)}))(':memory:').prepare('select 6 * 7 as n').get().n)`;
    const loaded = await run(process.execPath, ['-e', query], { cwd: scratch, env: userEnv });
    expect(loaded.stdout.trim(), loaded.stderr).toBe('42');

    // The installed keyledger scaffolds a registry whose workflow pins it, and that workflow's check passes.
    const init = await installedKeyledger(['init', 'registry'], scratch);
    expect(init.code, init.stderr).toBe(0);
    const registry = join(scratch, 'registry');
    const written = readFileSync(join(registry, '.github', 'workflows', 'keyledger.yaml'), 'utf8');
    expect(written).toContain(`KEYLEDGER_PACKAGE: keyledger@${manifest.version}`);
    workflow = parse(written) as typeof workflow;
    const validate = await run(
      'bash',
      ['--noprofile', '--norc', '-eo', 'pipefail', '-c', stepScript('keyledger validate')],
      {
        cwd: registry,
        env: { ...userEnv, PATH: `${prefix}/bin:${systemPath}` },
      },
    );
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stdout).toContain('0 errors');
  }, 300_000);

  it('installs a pre-commit hook that runs the installed keyledger with keyledger and npx off PATH', async () => {
    const repo = join(scratch, 'hooked');
    mkdirSync(repo);
    await run('git', ['init', '--quiet'], { cwd: repo, env: userEnv });
    const install = await installedKeyledger(['hook', 'install', '--json'], repo);
    expect(install.code, install.stderr).toBe(0);
    expect(JSON.parse(install.stdout).runs.script).toBe(
      join(prefix, 'lib', 'node_modules', 'keyledger', 'bin', 'keyledger.js'),
    );
    const onlyGit = join(scratch, 'only-git');
    mkdirSync(onlyGit);
    symlinkSync(
      (await run('sh', ['-c', 'command -v git'], { cwd: repo, env: userEnv })).stdout.trim(),
      join(onlyGit, 'git'),
    );
    const env = { ...userEnv, PATH: onlyGit };
    const commit = async (file: string, text: string) => {
      writeFileSync(join(repo, file), text);
      await run(join(onlyGit, 'git'), ['add', file], { cwd: repo, env });
      return run(join(onlyGit, 'git'), ['commit', '-m', `add ${file}`], { cwd: repo, env });
    };
    const clean = await commit('app.env', 'TOKEN=from-the-vault\n');
    expect(clean.code, clean.stderr).toBe(0);
    const leak = await commit('leak.env', `TOKEN=${githubToken('ghp', 403)}\n`);
    expect(leak.code).not.toBe(0);
    expect(leak.stdout + leak.stderr).toContain('github-pat');
  }, 300_000);

  it('installs from a git URL on npm 12+, and on older npm refuses with how to install instead', async () => {
    const result = await gitInstall;
    if (npmMajor >= 12) {
      expect(result.code, result.stderr).toBe(0);
      const version = await run(join(gitPrefix, 'bin', 'keyledger'), ['--version'], { cwd: scratch, env: userEnv });
      expect(version.stdout.trim()).toBe(manifest.version);
    } else {
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('keyledger: `npm install -g git+<url>` cannot work on npm < 12');
      expect(result.stderr).toContain(`npm install -g ./keyledger-${manifest.version}.tgz`);
      expect(result.stderr).not.toContain('tsc: not found');
      expect(existsSync(join(gitPrefix, 'lib', 'node_modules', 'keyledger'))).toBe(false);
    }
  }, 300_000);
});
