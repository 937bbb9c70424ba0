// Where the registry's remote comes from, and that its token reaches git only through git's environment and is cut
// out of every text that quotes git.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseRegistryConfig } from './registry-config.js';
import {
  RegistryRemoteToken,
  redactRemoteText,
  registryRemoteSettings,
  remoteGitEnv,
} from './registry-remote-settings.js';

const TOKEN = 'ghs_registry0123456789abcdef';
const withRemote = parseRegistryConfig('git:\n  remote: ../shared/registry.git\n  branch: registry\n', 'c.yaml');

describe('registryRemoteSettings', () => {
  it('is undefined without a remote, the config’s with one, and the environment’s over it', async () => {
    expect(await registryRemoteSettings({ env: {}, root: '/srv/reg', cwd: '/tmp' })).toBeUndefined();
    expect(await registryRemoteSettings({ config: withRemote, env: {}, root: '/srv/reg', cwd: '/tmp' })).toEqual({
      url: '/srv/shared/registry.git',
      branch: 'registry',
      tokenUser: 'x-access-token',
      pullIntervalMs: 30_000,
    });
    const fromEnv = await registryRemoteSettings({
      config: withRemote,
      env: {
        KEYLEDGER_REGISTRY_REMOTE: 'https://git.example.com/acme/registry.git',
        KEYLEDGER_REGISTRY_BRANCH: 'main',
        KEYLEDGER_REGISTRY_TOKEN: TOKEN,
        KEYLEDGER_REGISTRY_PULL_SECONDS: '5',
      },
      root: '/srv/reg',
      cwd: '/tmp',
    });
    expect(fromEnv).toMatchObject({
      url: 'https://git.example.com/acme/registry.git',
      branch: 'main',
      pullIntervalMs: 5000,
    });
    expect(fromEnv?.token?.reveal()).toBe(TOKEN);
    expect(
      (
        await registryRemoteSettings({
          env: { KEYLEDGER_REGISTRY_REMOTE: 'git@github.com:acme/registry.git' },
          root: '/',
          cwd: '/',
        })
      )?.url,
    ).toBe('git@github.com:acme/registry.git');
  });

  it('reads the token from a file (a mounted secret)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyledger-token-'));
    await writeFile(join(dir, 'token'), `${TOKEN}\n`);
    const settings = await registryRemoteSettings({
      env: { KEYLEDGER_REGISTRY_REMOTE: 'https://git.example.com/r.git', KEYLEDGER_REGISTRY_TOKEN_FILE: 'token' },
      root: dir,
      cwd: dir,
    });
    expect(settings?.token?.reveal()).toBe(TOKEN);
    await expect(
      registryRemoteSettings({
        env: { KEYLEDGER_REGISTRY_REMOTE: 'https://git.example.com/r.git', KEYLEDGER_REGISTRY_TOKEN_FILE: 'missing' },
        root: dir,
        cwd: dir,
      }),
    ).rejects.toMatchObject({ code: 'E_REGISTRY_REMOTE_CONFIG' });
  });

  it('refuses credentials in the URL without repeating them, and a token for a remote that is not http(s)', async () => {
    const inUrl = await registryRemoteSettings({
      env: { KEYLEDGER_REGISTRY_REMOTE: `https://bot:${TOKEN}@git.example.com/r.git` },
      root: '/',
      cwd: '/',
    }).catch((error: unknown) => error);
    expect(inUrl).toMatchObject({ code: 'E_REGISTRY_REMOTE_CONFIG' });
    expect((inUrl as Error).message).not.toContain(TOKEN);
    await expect(
      registryRemoteSettings({
        env: { KEYLEDGER_REGISTRY_REMOTE: '/srv/registry.git', KEYLEDGER_REGISTRY_TOKEN: TOKEN },
        root: '/',
        cwd: '/',
      }),
    ).rejects.toMatchObject({ code: 'E_REGISTRY_REMOTE_CONFIG' });
    await expect(
      registryRemoteSettings({
        env: { KEYLEDGER_REGISTRY_REMOTE: '/srv/registry.git', KEYLEDGER_REGISTRY_BRANCH: '--upload-pack=x' },
        root: '/',
        cwd: '/',
      }),
    ).rejects.toMatchObject({ code: 'E_REGISTRY_REMOTE_CONFIG' });
  });
});

describe('the token in git’s environment', () => {
  const settings = {
    url: 'https://git.example.com/acme/registry.git',
    branch: 'main',
    token: new RegistryRemoteToken(TOKEN),
    tokenUser: 'x-access-token',
    pullIntervalMs: 0,
  };
  const header = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');

  it('is an extra header scoped to the remote’s URL, after any config git was already given', () => {
    expect(remoteGitEnv(settings, { GIT_CONFIG_COUNT: '2' })).toEqual({
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_COUNT: '3',
      GIT_CONFIG_KEY_2: 'http.https://git.example.com/acme/registry.git.extraHeader',
      GIT_CONFIG_VALUE_2: `Authorization: Basic ${header}`,
    });
    expect(remoteGitEnv({ ...settings, token: undefined } as never, {})).toEqual({ GIT_TERMINAL_PROMPT: '0' });
  });

  it('is cut out of texts quoting git, raw, URL-encoded, as the Basic header or as a URL password', () => {
    const text = `fatal: ${TOKEN} ${encodeURIComponent(TOKEN)} Authorization: Basic ${header} https://bot:${TOKEN}x@host/r.git`;
    const redacted = redactRemoteText(text, settings);
    expect(redacted).not.toContain(TOKEN);
    expect(redacted).not.toContain(header);
    expect(redacted).toContain('https://bot:[REDACTED]@host/r.git');
  });

  it('never shows in JSON, string conversion or inspection', () => {
    const shown = `${JSON.stringify(settings)} ${String(settings.token)} ${inspect(settings)}`;
    expect(shown).not.toContain(TOKEN);
  });
});
