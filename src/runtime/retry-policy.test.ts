// Backoff, Retry-After parsing and the retry decisions every adapter shares.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProviderError } from '../errors/provider-error.js';
import { backoffDelayMs, DEFAULT_RETRY_OPTIONS, parseRetryAfter, withRetry } from './retry-policy.js';

const options = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000, budgetMs: 10_000 };

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('1.5', now)).toBe(1_500);
    expect(parseRetryAfter('Mon, 23 Nov 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('backoffDelayMs', () => {
  it('stays between half and all of the capped exponential step', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (retry, r) => {
        const step = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
        const delay = backoffDelayMs(retry, options, () => r);
        return delay >= Math.floor(step / 2) && delay <= step;
      }),
    );
  });
});

describe('withRetry', () => {
  const sleeps: number[] = [];
  const sleep = async (ms: number) => {
    sleeps.push(ms);
  };

  it('waits what Retry-After says, then succeeds', async () => {
    sleeps.length = 0;
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls === 1)
          throw new ProviderError('E_PROVIDER_RATE_LIMITED', 'p', 'slow down', { status: 429, retryAfterSeconds: 3 });
        return 'ok';
      },
      { ...options, idempotent: false },
      { sleep, random: () => 0 },
    );
    expect(result).toBe('ok');
    expect(sleeps).toEqual([3000]);
  });

  it('surfaces a Retry-After longer than the budget instead of waiting', async () => {
    const error = new ProviderError('E_PROVIDER_RATE_LIMITED', 'p', 'slow down', {
      status: 429,
      retryAfterSeconds: 3600,
    });
    await expect(
      withRetry(async () => Promise.reject(error), { ...options, idempotent: true }, { sleep }),
    ).rejects.toBe(error);
  });

  it('stops after maxAttempts on 5xx and never retries a 4xx', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new ProviderError('E_PROVIDER_UNAVAILABLE', 'p', 'boom', { status: 503 });
        },
        { ...options, idempotent: false },
        { sleep },
      ),
    ).rejects.toMatchObject({ status: 503 });
    expect(calls).toBe(4);
    calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new ProviderError('E_PROVIDER_INVALID_REQUEST', 'p', 'bad', { status: 400 });
        },
        { ...options, idempotent: true },
        { sleep },
      ),
    ).rejects.toMatchObject({ status: 400 });
    expect(calls).toBe(1);
  });

  it('retries a dropped connection only for idempotent calls', async () => {
    const drop = () =>
      new ProviderError('E_PROVIDER_UNAVAILABLE', 'p', 'connection failed: ECONNRESET', { providerCode: 'ECONNRESET' });
    let calls = 0;
    const ok = await withRetry(
      async () => (++calls === 1 ? Promise.reject(drop()) : 'ok'),
      { ...options, idempotent: true },
      { sleep },
    );
    expect(ok).toBe('ok');
    const error = await withRetry(
      async () => Promise.reject(drop()),
      { ...options, idempotent: false },
      { sleep },
    ).catch((e) => e);
    expect(error).toMatchObject({ retryable: false, providerCode: 'ECONNRESET' });
    expect(error.message).toMatch(/not idempotent.*reconcile/);
  });

  it('has sane defaults', () => {
    expect(DEFAULT_RETRY_OPTIONS.maxAttempts).toBeGreaterThan(1);
    expect(DEFAULT_RETRY_OPTIONS.budgetMs).toBeGreaterThan(DEFAULT_RETRY_OPTIONS.maxDelayMs);
  });
});
