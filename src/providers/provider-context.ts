// What an adapter receives from the outside besides its options: the clock, and the sleep and randomness its
// retries use (injected so that backoff tests run in milliseconds and deterministically).
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import type { Clock } from '../runtime/clock.js';
import type { Sleep } from '../runtime/retry-policy.js';

export interface ProviderContext {
  clock: Clock;
  sleep?: Sleep;
  random?: () => number;
  /** The operational store, for a provider that keeps its keys there (internal); the app passes it. */
  operationalDb?: Kysely<OperationalSchema>;
  /** The organisation's fingerprint key (src/secrets/secret-fingerprint.ts); internal derives its verification key. */
  fingerprintKey?: Buffer;
}
