// The provider table: adapters by name, options validated by each adapter's schema, credentials never echoed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/keyledger-error.js';
import { systemClock } from '../runtime/clock.js';
import { type RunningSandbox, startSandbox } from '../sandbox/start-sandbox.js';
import { SecretValue } from '../secrets/secret-value.js';
import { createProvider, providerNames, providerTable } from './provider-table.js';

const context = { clock: systemClock };

describe('provider table', () => {
  it('registers the adapters by their registry names', () => {
    expect(providerNames()).toEqual(expect.arrayContaining(['aws-iam', 'github', 'gitlab']));
  });

  it('creates an adapter from raw options, with defaults filled in', () => {
    const provider = createProvider(
      'gitlab',
      { baseUrl: 'http://127.0.0.1:1', token: 'glpat-abcdefghijklmnopqrst' },
      context,
    );
    expect(provider.name).toBe('gitlab');
    expect(provider.capabilities().nativeRotate).toBe(true);
    expect(provider.rateLimit()).toEqual({ requests: 2000, perSeconds: 60 });
  });

  it('is a Record over ProviderName: a table without one of them does not compile', () => {
    const { internal: _left, ...withoutInternal } = providerTable;
    // @ts-expect-error internal's entry is missing, and the compiler says so
    const incomplete: typeof providerTable = withoutInternal;
    expect(Object.keys(incomplete)).not.toContain('internal');
    expect(Object.entries(providerTable).every(([name, registration]) => registration.name === name)).toBe(true);
  });

  it('builds the internal provider only with the operational store and fingerprint key the app passes', () => {
    expect(() => createProvider('internal', {}, context)).not.toThrow();
    return expect(createProvider('internal', {}, context).list()[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: 'E_PROVIDER_CONFIG',
    });
  });

  it('names the unknown provider and the known ones', () => {
    expect(() => createProvider('nope', {}, context)).toThrow(/unknown provider "nope"; known providers: aws-iam/);
  });

  it('names the bad field without echoing the value', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    let error: unknown;
    try {
      createProvider('aws-iam', { credentials: { accessKeyId: 'not-a-key', secretAccessKey: secret } }, context);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('E_PROVIDER_OPTIONS');
    expect((error as ConfigError).message).toContain('credentials.accessKeyId');
    expect(JSON.stringify(error)).not.toContain(secret);
  });

  it('honours a rate-limit override, or lifts it', () => {
    const github = createProvider(
      'github',
      { org: 'acme', token: 'ghs_x', rateLimit: { requests: 5, perSeconds: 1 } },
      context,
    );
    expect(github.rateLimit()).toEqual({ requests: 5, perSeconds: 1 });
  });
});

describe('adapters loaded on first use', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ org: 'none', rateLimits: 'off' });
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it('answers capabilities, rate limit and kind as the loaded adapter does, for every provider', async () => {
    let compared = 0;
    const withoutSandbox: string[] = [];
    for (const [name, registration] of Object.entries(providerTable)) {
      if (!sandbox.urls[name]) {
        withoutSandbox.push(name);
        continue;
      }
      compared += 1;
      const options = registration.optionsSchema.parse(sandbox.providerOptions(name));
      const lazy = createProvider(name, sandbox.providerOptions(name), context);
      const loaded = (await registration.load())(options, context);
      expect(lazy.capabilities(), name).toEqual(loaded.capabilities());
      expect(lazy.rateLimit(), name).toEqual(loaded.rateLimit());
      for (const account of [undefined, 'acme', 'acme/api'])
        expect(lazy.kindOf?.(account), name).toBe(loaded.kindOf?.(account));
      expect(typeof lazy.rotate, name).toBe(typeof loaded.rotate);
      await (loaded as { close?: () => Promise<void> }).close?.();
    }
    expect(compared).toBe(Object.keys(providerTable).length - 1);
    // The internal provider keeps its keys in the operational store: it has no sandbox to point at.
    expect(withoutSandbox).toEqual(['internal']);
  });

  it('forwards calls to the adapter, built once, and closes it', async () => {
    const github = createProvider(
      'github',
      { ...sandbox.providerOptions('github'), retry: { maxAttempts: 1 } },
      context,
    );
    const unknown = new SecretValue('ghp_000000000000000000000000000000000000');
    const first = await github.verify(unknown);
    expect(first.valid).toBe(false);
    expect(await github.verify(unknown)).toEqual(first);
    const keys = [];
    for await (const key of github.list({ account: 'acme/api' })) keys.push(key);
    expect(keys).toEqual([]);
    await (github as { close?: () => Promise<void> }).close?.();
  });
});
