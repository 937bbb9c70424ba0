// The base every provider adapter extends (as Kysely's dialect adapters extend `dialect-adapter-base.ts`): it
// answers name, capabilities, rate limit and kind from the provider's declaration in providers/<name>/index.ts, so
// an adapter states them once, and builds the paced, retried SdkCaller every SDK-based adapter makes its calls with.
import type { RetryContext, RetryOptions } from '../runtime/retry-policy.js';
import { type RateLimiter, TokenBucket } from '../runtime/token-bucket.js';
import type { SecretValue } from '../secrets/secret-value.js';
import { ConcurrencyLimiter } from './http/concurrency-limiter.js';
import { effectiveRateLimit, type HttpProviderOptions } from './http/provider-http-options.js';
import { SdkCaller, type SdkCallerOptions } from './http/sdk-caller.js';
import type {
  CreatedKey,
  CreateKeyRequest,
  LastUsed,
  Provider,
  ProviderCapabilities,
  ProviderKey,
  ProviderKeyRef,
  RateLimit,
  VerifyResult,
} from './provider.js';
import type { ProviderContext } from './provider-context.js';
import type { ProviderDeclaration } from './provider-registration.js';

/** What of an adapter's parsed options the base reads: the rate-limit override and the retry policy. */
export interface ProviderAdapterOptions {
  rateLimit?: HttpProviderOptions['rateLimit'];
  retry?: RetryOptions;
}

/** What differs between two adapters' SDK callers: how each reads its SDK's failures, and its own credentials. */
export type AdapterSdkCallerParts = Pick<
  SdkCallerOptions,
  'answerOf' | 'parseError' | 'transportErrorOf' | 'secrets'
> & {
  /** Pace the calls against the rate limit (default); false for an API with a budget of its own (GCP's analyzer). */
  paced?: boolean;
  /** Cap calls in flight at the limit's `concurrency`, where the provider forbids parallel calls (GitHub). */
  limitConcurrency?: boolean;
};

export abstract class ProviderAdapter implements Provider {
  readonly name: string;
  // Plain (not #private) fields: a test may wrap an adapter with Object.create(adapter), and the inherited
  // capabilities()/kindOf() must still find them through the prototype.
  private readonly declaration: ProviderDeclaration;
  private readonly adapterOptions: ProviderAdapterOptions;
  /** The sleep and randomness of retries, from the context (tests inject them). */
  protected readonly retryContext: RetryContext;
  private readonly rateLimiterFor: ProviderContext['rateLimiterFor'];

  constructor(declaration: ProviderDeclaration, options: ProviderAdapterOptions, context: ProviderContext) {
    this.name = declaration.name;
    this.declaration = declaration;
    this.adapterOptions = options;
    this.rateLimiterFor = context.rateLimiterFor;
    this.retryContext = {
      ...(context.sleep ? { sleep: context.sleep } : {}),
      ...(context.random ? { random: context.random } : {}),
    };
  }

  capabilities(): ProviderCapabilities {
    return structuredClone(this.declaration.capabilities);
  }

  rateLimit(): RateLimit {
    return { ...(this.pacedRateLimit() ?? this.declaration.rateLimit) };
  }

  kindOf(account: string | undefined): string | undefined {
    return this.declaration.kindOf?.(account);
  }

  /** The limit calls are paced against: the `rateLimit` option, else the declared one; null when lifted (`off`). */
  protected pacedRateLimit(): RateLimit | null {
    return effectiveRateLimit(this.declaration.rateLimit, this.adapterOptions.rateLimit);
  }

  /**
   * The limiter for the paced limit — the context's (a budget shared across replicas) or a token bucket of this
   * adapter's own — or undefined when pacing is lifted.
   */
  protected rateLimiter(): RateLimiter | undefined {
    const limit = this.pacedRateLimit();
    if (!limit) return undefined;
    return this.rateLimiterFor?.(this.name, limit) ?? new TokenBucket(limit);
  }

  /** The SdkCaller of this adapter: paced by its own token bucket, retried by the `retry` option, errors mapped. */
  protected sdkCaller(parts: AdapterSdkCallerParts): SdkCaller {
    const { paced = true, limitConcurrency = false, ...mapping } = parts;
    const limit = this.pacedRateLimit();
    const limiter = paced ? this.rateLimiter() : undefined;
    if (!this.adapterOptions.retry)
      throw new TypeError(`${this.name}: an SDK caller needs the adapter's retry options`);
    return new SdkCaller(
      {
        provider: this.name,
        retry: this.adapterOptions.retry,
        ...mapping,
        ...(limiter ? { rateLimiter: limiter } : {}),
        ...(limitConcurrency && limit?.concurrency ? { concurrency: new ConcurrencyLimiter(limit.concurrency) } : {}),
      },
      this.retryContext,
    );
  }

  abstract create(request: CreateKeyRequest): Promise<CreatedKey>;
  abstract list(options?: { account?: string }): AsyncIterable<ProviderKey>;
  abstract verify(secret: SecretValue, ref?: ProviderKeyRef): Promise<VerifyResult>;
  abstract revoke(ref: ProviderKeyRef, secret?: SecretValue): Promise<void>;
  abstract lastUsed(ref: ProviderKeyRef): Promise<LastUsed>;
}
