// How adapters retry: jittered exponential backoff, `Retry-After` honoured (seconds or HTTP date), a bounded
// number of attempts and a bounded total wait. Shared by the HTTP client and the SDK-based adapters (AWS), so
// every provider backs off the same way and tests can inject the sleep and the randomness.
import { ProviderError } from '../errors/provider-error.js';

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** The first backoff step; doubled on each retry. */
  baseDelayMs: number;
  /** The largest single backoff step. */
  maxDelayMs: number;
  /** The most time spent waiting across all retries of one call; a longer Retry-After is surfaced instead. */
  budgetMs: number;
}

export const DEFAULT_RETRY_OPTIONS: RetryOptions = {
  maxAttempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  budgetMs: 60_000,
};

export interface RetryContext {
  sleep?: Sleep;
  /** A number in [0, 1); injected for deterministic tests. */
  random?: () => number;
}

/**
 * Reads a `Retry-After` header: delta-seconds or an HTTP date (RFC 9110 §10.2.3). Returns milliseconds to wait,
 * or undefined when the header is absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** The backoff before retry number `retry` (1-based): half the exponential step plus up to another half. */
export function backoffDelayMs(retry: number, options: RetryOptions, random: () => number = Math.random): number {
  const step = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** A failure that happened in transport (no answer from the provider), as opposed to an answer saying no. */
export function isTransportFailure(error: ProviderError): boolean {
  return error.code === 'E_PROVIDER_TIMEOUT' || (error.code === 'E_PROVIDER_UNAVAILABLE' && error.status === undefined);
}

/**
 * Runs `operation` until it succeeds, fails with a non-retryable error, or the attempts or wait budget run out.
 * Transport failures (timeouts, dropped connections) are retried only for idempotent calls: a create whose answer
 * was lost may have happened, and retrying it could mint a second key.
 */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions & { idempotent: boolean },
  context: RetryContext = {},
): Promise<T> {
  const sleep = context.sleep ?? realSleep;
  const random = context.random ?? Math.random;
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!(error instanceof ProviderError) || !error.retryable) throw error;
      if (isTransportFailure(error) && !options.idempotent) {
        throw new ProviderError(
          error.code === 'E_PROVIDER_TIMEOUT' ? 'E_PROVIDER_TIMEOUT' : 'E_PROVIDER_UNAVAILABLE',
          error.provider,
          `${stripProvider(error)} (not retried: the call is not idempotent and may have taken effect; list to reconcile)`,
          { ...(error.providerCode ? { providerCode: error.providerCode } : {}), retryable: false },
        );
      }
      if (attempt >= options.maxAttempts) throw error;
      const retryAfterMs = error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : undefined;
      // Honour Retry-After exactly (plus a little jitter so many callers do not return in lockstep).
      const delay =
        retryAfterMs !== undefined
          ? retryAfterMs + Math.round(random() * Math.min(1000, options.baseDelayMs))
          : backoffDelayMs(attempt, options, random);
      if (waited + delay > options.budgetMs) throw error;
      waited += delay;
      await sleep(delay);
    }
  }
}

function stripProvider(error: ProviderError): string {
  const prefix = `${error.provider}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}
