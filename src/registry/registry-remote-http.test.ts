// The registry's shared remote over git's smart HTTP (`git http-backend` behind a token, src/sandbox/git-remote-sandbox.ts),
// as on GitHub or GitLab: a replica clones an empty volume, writes and pushes with the token in git's environment
// only; two replicas write at once; a wrong or missing token fails at once and no message quotes it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGit } from '../git/git-command.js';
import { GitRemoteSandbox } from '../sandbox/git-remote-sandbox.js';
import { cloneRegistryIfMissing } from './registry-clone.js';
import { defaultRegistryConfig } from './registry-config.js';
import { RegistryRemote } from './registry-remote.js';
import { registryRemoteSettings } from './registry-remote-settings.js';
import { RegistryWriter } from './registry-writer.js';
import { GIT_TEST_ENV } from './test-support/registry-fixtures.js';
import { entryText } from './test-support/remote-fixtures.js';

const TOKEN = 'klreg_0123456789abcdefTOKEN';
const author = { name: 'Replica', email: 'replica@example.com' };
let sandbox: GitRemoteSandbox;
let work: string;

beforeAll(async () => {
  sandbox = await GitRemoteSandbox.start({ token: TOKEN });
  work = await mkdtemp(join(tmpdir(), 'keyledger-remote-http-'));
});

afterAll(async () => {
  await sandbox.close();
  await rm(work, { recursive: true, force: true });
});

function seed(repository: string): string {
  sandbox.hosting.commit(
    repository,
    { 'keys/k1.yaml': entryText('k1'), 'keys/k2.yaml': entryText('k2') },
    'initial',
    author,
  );
  return sandbox.repositoryUrl(repository);
}

async function settingsFor(url: string, token?: string) {
  const env = { KEYLEDGER_REGISTRY_REMOTE: url, ...(token ? { KEYLEDGER_REGISTRY_TOKEN: token } : {}) };
  const settings = await registryRemoteSettings({ env, root: work, cwd: work });
  if (!settings) throw new Error('no remote settings');
  return settings;
}

function bareLog(repository: string): Promise<string> {
  return runGit(['--git-dir', join(sandbox.hosting.root, `${repository}.git`), 'log', '--format=%s', 'main'], {
    cwd: work,
  });
}

describe('the registry remote over smart HTTP with a token', () => {
  it('clones an empty directory, then two replicas write at once and both land', async () => {
    const url = seed('acme/registry');
    const settings = await settingsFor(url, TOKEN);
    const [a, b] = [join(work, 'a', 'registry'), join(work, 'b', 'registry')];
    expect(await cloneRegistryIfMissing(a, settings, GIT_TEST_ENV)).toBe(true);
    expect(await cloneRegistryIfMissing(b, settings, GIT_TEST_ENV)).toBe(true);
    expect(await cloneRegistryIfMissing(a, settings, GIT_TEST_ENV)).toBe(false);
    const writers = [a, b].map(
      (root) =>
        new RegistryWriter({
          root,
          config: defaultRegistryConfig(),
          author,
          env: GIT_TEST_ENV,
          remote: new RegistryRemote(settings, { root, env: GIT_TEST_ENV, backoffMs: 5 }),
        }),
    );
    await Promise.all([
      writers[0]!.update('k1', { description: 'written by a' }),
      writers[1]!.update('k2', { description: 'written by b' }),
    ]);
    const log = (await bareLog('acme/registry')).trim().split('\n');
    expect(log.slice(0, 2).sort()).toEqual(['keyledger: update k1', 'keyledger: update k2']);
    expect(log).toHaveLength(3);
    // Pushes went through git-receive-pack, every request carried the token.
    expect(sandbox.requests.some(({ service }) => service === 'git-receive-pack')).toBe(true);
    expect(sandbox.requests.every(({ authorized }) => authorized)).toBe(true);
    // The token is in neither clone's git config (it travels in git's environment only).
    const header = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
    for (const root of [a, b]) {
      const gitConfig = await readFile(join(root, '.git', 'config'), 'utf8');
      expect(gitConfig).not.toContain(TOKEN);
      expect(gitConfig).not.toContain(header);
    }
  }, 120_000);

  it('a wrong or missing token is E_REGISTRY_REMOTE at once, and no message or detail quotes it', async () => {
    const url = seed('acme/locked');
    const wrong = 'klreg_wrong_token_9876543210';
    for (const token of [wrong, undefined]) {
      const settings = await settingsFor(url, token);
      const failure = await cloneRegistryIfMissing(
        join(work, `wrong-${token ?? 'none'}`),
        settings,
        GIT_TEST_ENV,
      ).catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: 'E_REGISTRY_REMOTE', category: 'external' });
      expect((failure as Error).message).toMatch(token ? /refused the token/ : /wants credentials/);
      const shown = `${(failure as Error).message} ${JSON.stringify(failure)} ${inspect(failure)} ${inspect(settings)}`;
      expect(shown).not.toContain(wrong);
      expect(shown).not.toContain(TOKEN);
      expect(shown).not.toContain(Buffer.from(`x-access-token:${wrong}`).toString('base64'));
    }
    // A replica whose token was revoked: its write fails before anything changes, the clone stays clean.
    const root = join(work, 'revoked', 'registry');
    await cloneRegistryIfMissing(root, await settingsFor(url, TOKEN), GIT_TEST_ENV);
    const revoked = await settingsFor(url, wrong);
    const writer = new RegistryWriter({
      root,
      config: defaultRegistryConfig(),
      author,
      env: GIT_TEST_ENV,
      remote: new RegistryRemote(revoked, { root, env: GIT_TEST_ENV }),
    });
    const failure = await writer.update('k1', { description: 'never lands' }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'E_REGISTRY_REMOTE' });
    expect((failure as Error).message).not.toContain(wrong);
    expect((await runGit(['status', '--porcelain'], { cwd: root })).trim()).toBe('');
    expect((await bareLog('acme/locked')).trim()).toBe('initial');
  }, 120_000);
});
