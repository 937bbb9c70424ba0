// A replica's first command on an empty volume: with KEYLEDGER_REGISTRY_REMOTE set, the directory KEYLEDGER_REGISTRY
// (or --registry) names is cloned from the remote when it is missing or empty; without it, a missing directory is
// still an error (never an empty registry).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GIT_TEST_ENV } from '../registry/test-support/registry-fixtures.js';
import { entryText, makeBareRemote, removeRemoteTestDirectories } from '../registry/test-support/remote-fixtures.js';
import { runCli } from './test-support/run-cli.js';

const work: string[] = [];
afterEach(async () => {
  await removeRemoteTestDirectories();
  await Promise.all(work.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('a registry cloned from its remote on first use', () => {
  it('clones into a missing KEYLEDGER_REGISTRY directory, and into an empty --registry directory', async () => {
    const remote = await makeBareRemote({ 'keys/k1.yaml': entryText('k1'), 'keys/k2.yaml': entryText('k2') });
    const parent = await mkdtemp(join(tmpdir(), 'keyledger-first-start-'));
    work.push(parent);
    const env = { ...process.env, ...GIT_TEST_ENV, KEYLEDGER_REGISTRY_REMOTE: remote };
    const fromEnv = await runCli(['list', '--json'], {
      cwd: parent,
      env: { ...env, KEYLEDGER_REGISTRY: join(parent, 'volume', 'registry') },
    });
    expect(fromEnv.stderr).toBe('');
    expect(fromEnv.code).toBe(0);
    expect(JSON.stringify(JSON.parse(fromEnv.stdout))).toContain('"k2"');
    await mkdir(join(parent, 'empty'));
    const fromFlag = await runCli(['list', '--json', '--registry', 'empty'], { cwd: parent, env });
    expect(fromFlag.code).toBe(0);
    expect(fromFlag.stdout).toContain('k1');
  }, 120_000);

  it('without a remote, a missing directory is still E_REGISTRY_NOT_FOUND', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'keyledger-first-start-'));
    work.push(parent);
    const run = await runCli(['list', '--json', '--registry', 'missing'], { cwd: parent, env: { ...GIT_TEST_ENV } });
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('E_REGISTRY_NOT_FOUND');
  }, 120_000);
});
