// The token bucket paces callers to the provider's budget, in order, with a virtual clock.
import { describe, expect, it } from 'vitest';
import { createRateLimiter, TokenBucket } from './token-bucket.js';

function virtualTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
    sleeps,
  };
}

describe('TokenBucket', () => {
  it('lets a burst through, then paces at the rate', async () => {
    const time = virtualTime();
    const bucket = new TokenBucket({ requests: 10, perSeconds: 1 }, { now: time.now, sleep: time.sleep });
    for (let i = 0; i < 10; i++) await bucket.acquire();
    expect(time.sleeps).toEqual([]);
    await bucket.acquire();
    expect(time.sleeps).toEqual([100]);
  });

  it('never exceeds requests per window over a long run', async () => {
    const time = virtualTime();
    const bucket = createRateLimiter({ requests: 5, perSeconds: 2 }, { now: time.now, sleep: time.sleep, burst: 1 });
    for (let i = 0; i < 101; i++) await bucket.acquire();
    // 101 calls at 2.5/s with a burst of one: the first is free, the other 100 take 40 s.
    expect(time.now()).toBeGreaterThanOrEqual(40_000);
    expect(time.now()).toBeLessThan(40_100);
  });

  it('answers tryAcquire and waitTimeMs without waiting', () => {
    const time = virtualTime();
    const bucket = new TokenBucket({ requests: 1, perSeconds: 2 }, { now: time.now });
    expect(bucket.tryAcquire()).toBe(true);
    expect(bucket.tryAcquire()).toBe(false);
    expect(bucket.waitTimeMs()).toBe(2000);
    time.advance(2000);
    expect(bucket.tryAcquire()).toBe(true);
  });

  it('rejects a limit without a rate', () => {
    expect(() => new TokenBucket({ requests: 0, perSeconds: 1 })).toThrow(RangeError);
  });
});
