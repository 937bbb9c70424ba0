// Options every HTTP-speaking adapter accepts (base URL, timeout, retries, rate-limit override), as one zod
// schema that each adapter's `<name>-schemas.ts` extends with its credentials and account.
import { z } from 'zod';
import { DEFAULT_RETRY_OPTIONS, type RetryOptions } from '../../runtime/retry-policy.js';
import type { RateLimit } from '../provider.js';

export const retryOptionsSchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(20),
    baseDelayMs: z.number().int().min(0),
    maxDelayMs: z.number().int().min(0),
    budgetMs: z.number().int().min(0),
  })
  .partial()
  .default({})
  .transform((value): RetryOptions => ({ ...DEFAULT_RETRY_OPTIONS, ...value }));

/** `off` lifts the pacing entirely (benchmarks against a sandbox whose limits are lifted too). */
export const rateLimitOverrideSchema = z.union([
  z.literal('off'),
  z.object({
    requests: z.number().positive(),
    perSeconds: z.number().positive(),
    concurrency: z.number().int().positive().optional(),
  }),
]);

export const httpProviderOptionsSchema = z.object({
  /** The provider's API root, e.g. `https://api.github.com` or a sandbox's `http://127.0.0.1:41234`. */
  baseUrl: z.url(),
  /** Per-attempt timeout of one HTTP exchange. */
  timeoutMs: z.number().int().positive().default(10_000),
  retry: retryOptionsSchema,
  /** Replaces the documented request budget the adapter paces itself against. */
  rateLimit: rateLimitOverrideSchema.optional(),
});

export type HttpProviderOptions = z.output<typeof httpProviderOptionsSchema>;

/** The limit an adapter paces against: the override when given, else the documented one; null when lifted. */
export function effectiveRateLimit(
  documented: RateLimit,
  override: HttpProviderOptions['rateLimit'],
): RateLimit | null {
  if (override === 'off') return null;
  return override ?? documented;
}
