// How an adapter built on a provider's official SDK makes its calls: paced by the provider's token bucket, capped
// in flight where the provider documents it, retried by our policy (429/Retry-After, 5xx within a budget, transport
// failures only for idempotent calls) with the SDK's own retries switched off, and every failure turned into a
// ProviderError read from the answer the SDK received — through the same per-provider parser the HTTP client uses,
// so an SDK-based adapter and an HTTP one word the provider's errors alike. The SDK's error object is never kept:
// its text may quote the request, and only what the parser extracts, redacted, leaves the adapter.
// Inside a lease holder's step (src/runtime/step-deadline.ts) each attempt honours the step's deadline as the HTTP
// client does: none is sent past it, the one in flight is aborted at it (the SDK is handed the signal — the AWS SDK
// v3's `send(command, { abortSignal })` — and the wait ends even for an SDK that ignores it), and the failure is
// the same non-retryable E_PROVIDER_TIMEOUT (`STEP_DEADLINE`), so no retry leaves after the step was given up.

import { ProviderError } from '../../errors/provider-error.js';
import { type RetryContext, type RetryOptions, withRetry } from '../../runtime/retry-policy.js';
import { currentStepDeadline } from '../../runtime/step-deadline.js';
import type { RateLimiter } from '../../runtime/token-bucket.js';
import type { SecretValue } from '../../secrets/secret-value.js';
import type { ConcurrencyLimiter } from './concurrency-limiter.js';
import {
  type HttpAnswer,
  type ProviderErrorParser,
  pastDeadline,
  providerErrorFromAnswer,
  transportError,
} from './provider-http-client.js';

export interface SdkCallerOptions {
  provider: string;
  retry: RetryOptions;
  /** Reads the provider's answer out of what the SDK threw; undefined when no answer came (a transport failure). */
  answerOf: (error: unknown) => HttpAnswer | undefined;
  parseError: ProviderErrorParser;
  /**
   * Maps a failure without an answer; defaults to `transportError` on the error and then on each of its causes
   * (SDKs wrap the socket error they saw), a timeout or dropped connection being retryable.
   */
  transportErrorOf?: (error: unknown) => ProviderError;
  rateLimiter?: RateLimiter | null;
  concurrency?: ConcurrencyLimiter;
  /** Credentials of the adapter itself, always cut out of error texts. */
  secrets?: ReadonlyArray<SecretValue | undefined>;
}

export interface SdkCall {
  /** Whether repeating the call after a lost answer is harmless (a create is not: it may have minted a key). */
  idempotent: boolean;
  /** Key material used by this call, cut out of any error text. */
  secrets?: ReadonlyArray<SecretValue | undefined>;
}

export class SdkCaller {
  readonly #options: SdkCallerOptions;
  readonly #retryContext: RetryContext;

  constructor(options: SdkCallerOptions, retryContext: RetryContext = {}) {
    this.#options = options;
    this.#retryContext = retryContext;
  }

  /**
   * Runs one SDK call (a function that sends it afresh on every attempt), paced, retried and error-mapped. `send`
   * gets the step's deadline signal, when there is one, to hand to the SDK.
   */
  call<T>(call: SdkCall, send: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    const attempt = async (): Promise<T> => {
      if (this.#options.rateLimiter) await this.#options.rateLimiter.acquire();
      return sendBeforeStepDeadline(this.#options.provider, send, (error) =>
        this.toProviderError(error, call.secrets ?? []),
      );
    };
    const limited = this.#options.concurrency ? () => this.#options.concurrency!.run(attempt) : attempt;
    return withRetry(limited, { ...this.#options.retry, idempotent: call.idempotent }, this.#retryContext);
  }

  /** What an SDK failure means, as a ProviderError; a ProviderError passes through unchanged. */
  toProviderError(error: unknown, secrets: ReadonlyArray<SecretValue | undefined> = []): ProviderError {
    if (error instanceof ProviderError) return error;
    const { provider } = this.#options;
    const answer = this.#options.answerOf(error);
    if (answer) {
      return providerErrorFromAnswer(provider, answer, this.#options.parseError, [
        ...(this.#options.secrets ?? []),
        ...secrets,
      ]);
    }
    if (this.#options.transportErrorOf) return this.#options.transportErrorOf(error);
    return transportErrorOfChain(provider, error);
  }
}

/**
 * One attempt of an SDK call under the current step's deadline (src/runtime/step-deadline.ts), if any: refused
 * before sending once it has passed, and given up at it (the SDK's request aborted through `signal`) with the HTTP
 * client's non-retryable STEP_DEADLINE error. Any other failure goes through `mapError`. Outside a step it is just
 * `send(undefined)`. Shared by SdkCaller and adapters that pace and retry their SDK themselves (aws-iam).
 */
export async function sendBeforeStepDeadline<T>(
  provider: string,
  send: (signal: AbortSignal | undefined) => Promise<T>,
  mapError: (error: unknown) => ProviderError,
): Promise<T> {
  const deadline = currentStepDeadline();
  if (!deadline) {
    try {
      return await send(undefined);
    } catch (error) {
      throw mapError(error);
    }
  }
  if (deadline.aborted) throw pastDeadline(provider);
  let onAbort: (() => void) | undefined;
  // Settles at the deadline even when the SDK does not listen to the signal (its request is then left to finish).
  const givenUp = new Promise<never>((_, reject) => {
    onAbort = () => reject(pastDeadline(provider));
    deadline.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([send(deadline), givenUp]);
  } catch (error) {
    if (deadline.aborted) throw pastDeadline(provider);
    throw mapError(error);
  } finally {
    deadline.removeEventListener('abort', onAbort!);
  }
}

/** `transportError` of the first error in the cause chain that names a socket failure or a timeout. */
export function transportErrorOfChain(provider: string, error: unknown): ProviderError {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const mapped = transportError(provider, current);
    if (mapped.code === 'E_PROVIDER_TIMEOUT' || mapped.providerCode !== 'CONNECTION') return mapped;
    current = (current as { cause?: unknown }).cause;
  }
  return transportError(provider, error);
}

/** An answer built from the parts SDK errors commonly expose (status, headers in any shape, a body or its text). */
export function sdkAnswer(
  status: number,
  headers: Headers | Record<string, string | string[] | undefined> | undefined,
  body: unknown,
): HttpAnswer {
  const flat: Record<string, string | string[] | undefined> = {};
  if (headers instanceof Headers) {
    headers.forEach((value, name) => {
      flat[name.toLowerCase()] = value;
    });
  } else if (headers) {
    for (const [name, value] of Object.entries(headers)) flat[name.toLowerCase()] = value;
  }
  let parsed = body;
  let text = '';
  if (typeof body === 'string') {
    text = body;
    try {
      parsed = body.trim() === '' ? body : JSON.parse(body);
    } catch {
      parsed = body;
    }
  } else if (body !== undefined && body !== null) {
    text = JSON.stringify(body);
  }
  return { status, headers: flat, body: parsed, text };
}
