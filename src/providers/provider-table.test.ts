// The provider table: adapters by name, options validated by each adapter's schema, credentials never echoed.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/keyledger-error.js';
import { systemClock } from '../runtime/clock.js';
import { createProvider, providerNames } from './provider-table.js';

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
