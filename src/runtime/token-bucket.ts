// A token-bucket rate limiter built from a provider's `rateLimit()`. Adapters pace their own calls with it, and
// the rotation controller reuses it to pace bulk work. Callers reserve a token and wait their turn, so waiting
// callers are served in order and the long-run rate never exceeds `requests / perSeconds`.
import { realSleep, type Sleep } from './retry-policy.js';

/** A documented request budget (a provider's `rateLimit()`); bulk work is paced against it. */
export interface RateLimit {
  requests: number;
  perSeconds: number;
  /** Concurrent requests the provider tolerates, when it says. */
  concurrency?: number;
}

/**
 * What paces calls: a TokenBucket in this process, or a budget shared by a fleet's replicas
 * (src/db/shared-rate-budget.ts), which the app hands adapters through their context on PostgreSQL.
 */
export interface RateLimiter {
  /** Waits until a request may leave, and counts it. */
  acquire(): Promise<void>;
}

export interface TokenBucketOptions {
  /** Milliseconds since an arbitrary origin; injected for tests. */
  now?: () => number;
  sleep?: Sleep;
  /** Tokens available at once; defaults to `requests` (one window's worth). */
  burst?: number;
}

export class TokenBucket implements RateLimiter {
  readonly #ratePerMs: number;
  readonly #capacity: number;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  #tokens: number;
  #updatedAt: number;

  constructor(limit: RateLimit, options: TokenBucketOptions = {}) {
    if (!(limit.requests > 0) || !(limit.perSeconds > 0))
      throw new RangeError('a rate limit needs requests > 0 and perSeconds > 0');
    this.#ratePerMs = limit.requests / (limit.perSeconds * 1000);
    this.#capacity = Math.max(1, options.burst ?? limit.requests);
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? realSleep;
    this.#tokens = this.#capacity;
    this.#updatedAt = this.#now();
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#updatedAt) * this.#ratePerMs);
    this.#updatedAt = now;
  }

  /** Takes a token without waiting; false when none is available. */
  tryAcquire(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until a token would be available (0 when one is). */
  waitTimeMs(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) / this.#ratePerMs);
  }

  /** Waits until a token is available and takes it. */
  async acquire(): Promise<void> {
    this.#refill();
    // Reserve now (the balance may go negative) so that concurrent callers queue behind one another.
    this.#tokens -= 1;
    if (this.#tokens >= 0) return;
    await this.#sleep(Math.ceil(-this.#tokens / this.#ratePerMs));
  }
}

/** A limiter for a provider's documented budget, e.g. `createRateLimiter(provider.rateLimit())`. */
export function createRateLimiter(limit: RateLimit, options: TokenBucketOptions = {}): TokenBucket {
  return new TokenBucket(limit, options);
}
