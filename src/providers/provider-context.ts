// What an adapter receives from the outside besides its options: the clock, and the sleep and randomness its
// retries use (injected so that backoff tests run in milliseconds and deterministically).
import type { Clock } from '../runtime/clock.js';
import type { Sleep } from '../runtime/retry-policy.js';

export interface ProviderContext {
  clock: Clock;
  sleep?: Sleep;
  random?: () => number;
}
