// The Stripe adapter, on the official SDK (`stripe`): manual. Stripe has no API for its secret and restricted keys,
// so create, list, revoke and last use are unsupported (capabilities say so, and rotation becomes a ticket); verify
// proves a key works with the cheapest read there is, `stripe.balance.retrieve()` (`GET /v1/balance`), the key passed
// per request (`apiKey`): the adapter holds no credential of its own. The SDK's retries are off (ours apply, through
// SdkCaller), its timeout is `timeoutMs`, its host/port/protocol come from `baseUrl`, and it sends over its fetch
// client on an undici Agent of ours (closed in close()). Not the SDK's node client: that one repeats a request
// whose connection was reset even with retries off, behind our retry policy's back.
import { createHash } from 'node:crypto';
import Stripe from 'stripe';
import { Agent, fetch as undiciFetch } from 'undici';
import { ProviderError } from '../../errors/provider-error.js';
import { redactSecrets } from '../../runtime/secret-redaction.js';
import type { SecretValue } from '../../secrets/secret-value.js';
import type { HttpAnswer, ProviderErrorBody } from '../http/provider-http-client.js';
import { type SdkCaller, sdkAnswer, transportErrorOfChain } from '../http/sdk-caller.js';
import type { CreatedKey, LastUsed, ProviderKey, ProviderKeyRef, VerifyResult } from '../provider.js';
import { ProviderAdapter } from '../provider-adapter.js';
import type { ProviderContext } from '../provider-context.js';
import { stripeProviderRegistration } from './index.js';
import { STRIPE_PROVIDER_NAME } from './stripe-constants.js';
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

function stripeMode(secret: SecretValue): 'live' | 'test' {
  return secret.reveal().includes('_live_') ? 'live' : 'test';
}

/**
 * The answer a Stripe error carries: its status, headers (Retry-After among them) and Stripe's error object
 * (`raw` is that object, to which the SDK added the status, headers and request id). Undefined when no answer came.
 */
export function stripeAnswerOf(error: unknown): HttpAnswer | undefined {
  if (!(error instanceof Stripe.errors.StripeError) || error instanceof Stripe.errors.StripeConnectionError) {
    return undefined;
  }
  if (typeof error.statusCode !== 'number') return undefined;
  const { message, type, code } = error.raw as { message?: unknown; type?: unknown; code?: unknown };
  const body = {
    error: {
      ...(typeof message === 'string' ? { message } : {}),
      ...(typeof type === 'string' ? { type } : {}),
      ...(typeof code === 'string' ? { code } : {}),
    },
  };
  return sdkAnswer(error.statusCode, error.headers, body);
}

/**
 * A failure without an answer. The SDK wraps socket failures and its own timeout (a TypeError with code ETIMEDOUT)
 * in StripeConnectionError, keeping the original as `detail`; an answer that is not JSON (a proxy's HTML page)
 * comes as a StripeAPIError without status.
 */
function stripeTransportError(error: unknown): ProviderError {
  if (error instanceof Stripe.errors.StripeConnectionError) {
    const detail = error.detail as { exception?: unknown } | undefined;
    // A body that stopped arriving is an HttpClientResponseBodyError holding the socket error as `exception`.
    return transportErrorOfChain(
      STRIPE_PROVIDER_NAME,
      detail?.exception ?? detail ?? { name: 'StripeConnectionError' },
    );
  }
  if (error instanceof Stripe.errors.StripeError) {
    return new ProviderError(
      'E_PROVIDER_UNAVAILABLE',
      STRIPE_PROVIDER_NAME,
      'Stripe answered with a body that is not JSON',
      {
        providerCode: 'INVALID_JSON',
        retryable: true,
      },
    );
  }
  return transportErrorOfChain(STRIPE_PROVIDER_NAME, error);
}

export class StripeProvider extends ProviderAdapter {
  readonly #options: StripeOptions;
  readonly #agent: Agent;
  readonly #stripe: Stripe;
  readonly #caller: SdkCaller;

  constructor(options: StripeOptionsInput | StripeOptions, context: ProviderContext) {
    const parsed = stripeOptionsSchema.parse(options);
    super(stripeProviderRegistration, parsed, context);
    this.#options = parsed;
    const base = new URL(this.#options.baseUrl);
    const protocol = base.protocol === 'http:' ? 'http' : 'https';
    // The SDK takes a host, port and protocol; a path in the base URL (a proxy's prefix) is put before its paths.
    const basePath = base.pathname.replace(/\/+$/, '');
    const agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
    this.#agent = agent;
    const fetchFn = (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(String(input));
      if (basePath) url.pathname = `${basePath}${url.pathname}`;
      return undiciFetch(url, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent });
    };
    this.#stripe = new Stripe('', {
      // Every call names its key (`apiKey` per request); a call without one would go unauthenticated.
      authenticator: async () => {},
      host: base.hostname,
      port: base.port || (protocol === 'http' ? 80 : 443),
      protocol,
      maxNetworkRetries: 0,
      timeout: this.#options.timeoutMs,
      httpClient: Stripe.createFetchHttpClient(fetchFn as unknown as typeof fetch),
      telemetry: false,
      appInfo: { name: 'keyledger' },
      // Sent as `Stripe-Version`; without it the SDK sends the version it is pinned to.
      ...(this.#options.apiVersion ? { apiVersion: this.#options.apiVersion as Stripe.LatestApiVersion } : {}),
    });
    this.#caller = this.sdkCaller({
      answerOf: stripeAnswerOf,
      parseError: parseStripeError,
      transportErrorOf: stripeTransportError,
    });
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
    const outcome = await this.#caller.call({ idempotent: true, secrets: [secret] }, async () => {
      try {
        return { balance: await this.#stripe.balance.retrieve(undefined, { apiKey: secret.reveal() }) };
      } catch (error) {
        // 401 and 403 are verify's answers (the key is refused, or accepted without balance read), not failures.
        const answer = stripeAnswerOf(error);
        if (answer && (answer.status === 401 || answer.status === 403)) return { refused: answer };
        throw error;
      }
    });
    if (outcome.refused?.status === 401) {
      return { valid: false, reason: redactSecrets(parseStripeError(outcome.refused).message, [secret]) };
    }
    if (outcome.balance) stripeBalanceSchema.parse(outcome.balance);
    return { valid: true, identity: ref?.account ?? stripeMode(secret), providerKeyId: stripeKeyId(secret.reveal()) };
  }

  async revoke(): Promise<void> {
    throw this.#manual('revoke');
  }

  async lastUsed(): Promise<LastUsed> {
    throw this.#manual('lastUsed');
  }

  /** Releases the SDK's sockets. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  #manual(action: string): ProviderError {
    return new ProviderError(
      'E_PROVIDER_UNSUPPORTED',
      this.name,
      `${action}: Stripe has no API for API keys; roll or expire the key in the Dashboard (Developers -> API keys). Rotation is a ticket.`,
    );
  }
}
