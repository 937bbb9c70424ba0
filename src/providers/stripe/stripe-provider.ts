// The Stripe adapter: manual. Stripe has no API for its secret and restricted keys, so create, list, revoke and
// last use are unsupported (capabilities say so, and rotation becomes a ticket); verify proves a key works with the
// cheapest read there is, `GET /v1/balance`. The adapter holds no credential of its own.
import { createHash } from 'node:crypto';
import type { SecretValue } from '../../secrets/secret-value.js';
import { type HttpAnswer, type ProviderErrorBody, ProviderHttpClient } from '../http/provider-http-client.js';
import { effectiveRateLimit } from '../http/provider-http-options.js';
import { TokenBucket } from '../http/token-bucket.js';
import type {
  CreatedKey,
  LastUsed,
  Provider,
  ProviderCapabilities,
  ProviderKey,
  ProviderKeyRef,
  RateLimit,
  VerifyResult,
} from '../provider.js';
import type { ProviderContext } from '../provider-context.js';
import { ProviderError } from '../provider-error.js';
import { STRIPE_CAPABILITIES, STRIPE_PROVIDER_NAME, STRIPE_RATE_LIMIT } from './stripe-constants.js';
import {
  type StripeOptions,
  type StripeOptionsInput,
  stripeBalanceSchema,
  stripeErrorSchema,
  stripeOptionsSchema,
} from './stripe-schemas.js';

/** Stripe's `{error: {message, type, code}}`; `rate_limit` is throttling whatever the status. */
export function parseStripeError(answer: HttpAnswer): ProviderErrorBody {
  const parsed = stripeErrorSchema.safeParse(answer.body);
  if (!parsed.success) return { message: answer.text.trim() || `HTTP ${answer.status}` };
  const { message, type, code } = parsed.data.error;
  const providerCode = code ?? type;
  return {
    message: message ?? `HTTP ${answer.status}`,
    ...(providerCode ? { providerCode } : {}),
    ...(code === 'rate_limit' ? { code: 'E_PROVIDER_RATE_LIMITED' as const } : {}),
  };
}

/** How keyledger names a Stripe key, which Stripe does not: its visible ends and a short hash. */
export function stripeKeyId(secret: string): string {
  return `${secret.slice(0, 8)}…${secret.slice(-4)}-${createHash('sha256').update(secret).digest('hex').slice(0, 8)}`;
}

export class StripeProvider implements Provider {
  readonly name = STRIPE_PROVIDER_NAME;
  readonly #options: StripeOptions;
  readonly #http: ProviderHttpClient;

  constructor(options: StripeOptionsInput | StripeOptions, context: ProviderContext) {
    this.#options = stripeOptionsSchema.parse(options);
    const limit = effectiveRateLimit(STRIPE_RATE_LIMIT, this.#options.rateLimit);
    this.#http = new ProviderHttpClient(
      {
        provider: this.name,
        baseUrl: this.#options.baseUrl,
        timeoutMs: this.#options.timeoutMs,
        retry: this.#options.retry,
        parseError: parseStripeError,
        ...(limit ? { rateLimiter: new TokenBucket(limit) } : {}),
        headers: () => ({
          'user-agent': 'keyledger',
          ...(this.#options.apiVersion ? { 'stripe-version': this.#options.apiVersion } : {}),
        }),
      },
      { ...(context.sleep ? { sleep: context.sleep } : {}), ...(context.random ? { random: context.random } : {}) },
    );
  }

  capabilities(): ProviderCapabilities {
    return structuredClone(STRIPE_CAPABILITIES);
  }

  rateLimit(): RateLimit {
    return effectiveRateLimit(STRIPE_RATE_LIMIT, this.#options.rateLimit) ?? STRIPE_RATE_LIMIT;
  }

  async create(): Promise<CreatedKey> {
    throw this.#manual('create');
  }

  // biome-ignore lint/correctness/useYield: Stripe has nothing to list; the call fails before the first key.
  async *list(): AsyncIterable<ProviderKey> {
    throw this.#manual('list');
  }

  /**
   * `GET /v1/balance` with the key. 200 proves it; 403 too (a restricted key without balance read: Stripe names the
   * permission it lacks, which it does only for a key it accepted); 401 (invalid or expired) refuses it.
   */
  async verify(secret: SecretValue, ref?: ProviderKeyRef): Promise<VerifyResult> {
    const answer = await this.#http.send({
      method: 'GET',
      path: '/v1/balance',
      headers: { authorization: `Bearer ${secret.reveal()}` },
      accept: [401, 403],
      secrets: [secret],
    });
    if (answer.status === 401) return { valid: false, reason: parseStripeError(answer).message };
    const providerKeyId = stripeKeyId(secret.reveal());
    const mode = secret.reveal().includes('_live_') ? 'live' : 'test';
    const identity = ref?.account ?? mode;
    if (answer.status === 403) return { valid: true, identity, providerKeyId };
    stripeBalanceSchema.parse(answer.body);
    return { valid: true, identity, providerKeyId };
  }

  async revoke(): Promise<void> {
    throw this.#manual('revoke');
  }

  async lastUsed(): Promise<LastUsed> {
    throw this.#manual('lastUsed');
  }

  async close(): Promise<void> {
    await this.#http.close();
  }

  #manual(action: string): ProviderError {
    return new ProviderError(
      'E_PROVIDER_UNSUPPORTED',
      this.name,
      `${action}: Stripe has no API for API keys; roll or expire the key in the Dashboard (Developers -> API keys). Rotation is a ticket.`,
    );
  }
}
