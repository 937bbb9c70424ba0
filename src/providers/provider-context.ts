// What an adapter receives from the outside besides its options: the clock, and the sleep and randomness its
// retries use (injected so that backoff tests run in milliseconds and deterministically), and where the app says
// so, the rate limiter its calls are paced by (a budget shared by the replicas of a fleet).
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import type { Clock } from '../runtime/clock.js';
import type { Sleep } from '../runtime/retry-policy.js';
import type { RateLimit, RateLimiter } from '../runtime/token-bucket.js';

export interface ProviderContext {
  clock: Clock;
  sleep?: Sleep;
  random?: () => number;
  /** The operational store, for a provider that keeps its keys there (internal); the app passes it. */
  operationalDb?: Kysely<OperationalSchema>;
  /** The organisation's fingerprint key (src/secrets/secret-fingerprint.ts); internal derives its verification key. */
  fingerprintKey?: Buffer;
  /**
   * The limiter for a provider's paced limit, instead of a TokenBucket of the adapter's own: on PostgreSQL the app
   * passes a budget the replicas share (src/db/shared-rate-budget.ts), so N replicas do not send N times the limit.
   */
  rateLimiterFor?: (provider: string, limit: RateLimit) => RateLimiter;
}
