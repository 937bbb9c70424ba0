import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runGit } from '../git/git-command.js';
import { packageRoot } from '../runtime/package-paths.js';
import { scaffoldRegistry } from './registry-scaffold.js';
import { GIT_TEST_ENV } from './test-support/registry-fixtures.js';

interface Workflow {
  env: Record<string, string>;
  jobs: { validate: { steps: { name?: string; run?: string }[] } };
}

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

const version = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
const env = { ...process.env, ...GIT_TEST_ENV };

async function scaffolded(): Promise<{ root: string; workflow: Workflow; text: string }> {
  const root = await mkdtemp(join(tmpdir(), 'keyledger-init-'));
  roots.push(root);
  await scaffoldRegistry({ root, now: new Date('2026-11-23T00:00:00Z'), env });
  const text = readFileSync(join(root, '.github', 'workflows', 'keyledger.yaml'), 'utf8');
  return { root, workflow: parse(text) as Workflow, text };
}

/** Runs one step's `run:` script as GitHub Actions does (bash -e), with the expressions it uses filled in. */
function runStep(
  workflow: Workflow,
  name: string,
  options: { cwd: string; path: string; event: 'push' | 'pull_request' },
) {
  const step = workflow.jobs.validate.steps.find((candidate) => candidate.name === name);
  if (!step?.run) throw new Error(`no step ${name}`);
  const script = step.run
    .replaceAll(/\$\{\{ github\.event_name \}\}/g, options.event)
    .replaceAll(/\$\{\{ github\.base_ref \}\}/g, 'main');
  return spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
    cwd: options.cwd,
    env: { ...env, ...workflow.env, PATH: options.path },
    encoding: 'utf8',
  });
}

function binDirectory(root: string, commands: Record<string, string>): string {
  const bin = join(root, '.test-bin');
  mkdirSync(bin, { recursive: true });
  for (const [name, script] of Object.entries(commands)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${script}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return bin;
}

describe('keyledger init: the CI workflow and the pre-commit config', () => {
  it('pins the keyledger release that wrote them, and never runs npx', async () => {
    const { root, workflow, text } = await scaffolded();
    expect(workflow.env.KEYLEDGER_PACKAGE).toBe(`keyledger@${version}`);
    expect(text).not.toContain('npx');
    const preCommit = parse(readFileSync(join(root, '.pre-commit-config.yaml'), 'utf8')) as {
      minimum_pre_commit_version: string;
      repos: { rev: string }[];
    };
    expect(preCommit.repos[0]?.rev).toBe(`v${version}`);
    expect(preCommit.minimum_pre_commit_version).toBe('3.2.0');
  });

  it('runs the installed keyledger on push and on pull requests', async () => {
    const { root, workflow } = await scaffolded();
    await runGit(['update-ref', 'refs/remotes/origin/main', 'HEAD'], { cwd: root, env });
    // Stands in for the `npm install --global` step: this checkout's CLI (dist/, `npm run build`) as `keyledger`.
    const bin = binDirectory(root, {
      keyledger: `exec '${process.execPath}' '${join(packageRoot(), 'bin', 'keyledger.js')}' "$@"`,
    });
    const path = `${bin}:/usr/bin:/bin`;
    const push = runStep(workflow, 'keyledger validate', { cwd: root, path, event: 'push' });
    expect(push.stderr).toBe('');
    expect(push.status).toBe(0);
    expect(push.stdout).toContain('0 errors');
    const pullRequest = runStep(workflow, 'keyledger validate', { cwd: root, path, event: 'pull_request' });
    expect(pullRequest.status).toBe(0);
  }, 30_000);

  it('fails the install step with a message saying what to set, where the release cannot be installed', async () => {
    const { root, workflow } = await scaffolded();
    const bin = binDirectory(root, { npm: 'echo "npm error 404 Not Found - GET keyledger" >&2; exit 1' });
    const result = runStep(workflow, 'install keyledger', { cwd: root, path: `${bin}:/usr/bin:/bin`, event: 'push' });
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(
      `::error::could not install keyledger@${version} (npm's error is above): set KEYLEDGER_PACKAGE in this workflow`,
    );
  });
});
