// The HTTP client every REST adapter uses: one base URL per provider, a per-call timeout, pacing by the
// provider's token bucket, retries (429/Retry-After, 5xx within a budget, dropped connections for idempotent
// calls) and the mapping of an error answer to a ProviderError with the provider's own message and code.
import { Agent, type Dispatcher, request } from 'undici';
import { ProviderError, type ProviderErrorCode } from '../../errors/provider-error.js';
import { parseRetryAfter, type RetryContext, type RetryOptions, withRetry } from '../../runtime/retry-policy.js';
import { redactSecrets } from '../../runtime/secret-redaction.js';
import { currentStepDeadline } from '../../runtime/step-deadline.js';
import type { RateLimiter } from '../../runtime/token-bucket.js';
import type { SecretValue } from '../../secrets/secret-value.js';
import type { ConcurrencyLimiter } from './concurrency-limiter.js';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the answer is JSON, the text otherwise. */
  body: unknown;
  text: string;
}

/** What a provider says in an error answer, read by its own parser (GitHub's `message`, GitLab's `error`...). */
export interface ProviderErrorBody {
  message: string;
  providerCode?: string;
  /** Overrides the status-derived code, e.g. GitHub's 403 secondary rate limit is E_PROVIDER_RATE_LIMITED. */
  code?: ProviderErrorCode;
  /** When the provider says when to come back some other way than Retry-After (GitHub's x-ratelimit-reset). */
  retryAfterSeconds?: number;
}

export type ProviderErrorParser = (answer: HttpAnswer) => ProviderErrorBody;

export interface ProviderHttpClientOptions {
  provider: string;
  baseUrl: string;
  timeoutMs: number;
  retry: RetryOptions;
  parseError: ProviderErrorParser;
  rateLimiter?: RateLimiter;
  /** Caps calls in flight, when the provider documents a concurrency limit. */
  concurrency?: ConcurrencyLimiter;
  /** Headers on every call (authentication, API version, user agent). */
  headers?: () => Record<string, string>;
  /** Credentials of the adapter itself, always cut out of error texts. */
  secrets?: SecretValue[];
  dispatcher?: Dispatcher;
}

export interface HttpCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** A path relative to the base URL, e.g. `/repos/acme/api/keys`. */
  path: string;
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  /** A form body (`application/x-www-form-urlencoded`), for APIs that take no JSON (Twilio, OAuth token endpoints). */
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /** Statuses that are answers, not errors (e.g. 401 for a verify call). Defaults to 2xx. */
  accept?: number[];
  /** Defaults to true for GET, PUT and DELETE. */
  idempotent?: boolean;
  /** Key material used by this call, cut out of any error text. */
  secrets?: SecretValue[];
}

export class ProviderHttpClient {
  readonly #options: ProviderHttpClientOptions;
  readonly #retryContext: RetryContext;
  readonly #dispatcher: Dispatcher;
  readonly #baseUrl: string;

  constructor(options: ProviderHttpClientOptions, retryContext: RetryContext = {}) {
    this.#options = options;
    this.#retryContext = retryContext;
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  }

  /** Sends a call with pacing and retries; returns the answer or throws a ProviderError. */
  async send(call: HttpCall): Promise<HttpAnswer> {
    const idempotent = call.idempotent ?? (call.method === 'GET' || call.method === 'PUT' || call.method === 'DELETE');
    const attempt = () => this.#sendOnce(call);
    const limited = this.#options.concurrency ? () => this.#options.concurrency!.run(attempt) : attempt;
    return withRetry(limited, { ...this.#options.retry, idempotent }, this.#retryContext);
  }

  /** Sends a GET for each page, following `Link: <...>; rel="next"` (GitHub, GitLab) until there is none. */
  async *paginate(call: HttpCall): AsyncIterable<HttpAnswer> {
    let next: HttpCall | undefined = call;
    while (next) {
      const answer = await this.send(next);
      yield answer;
      const url = nextLink(answer.headers.link);
      next = url ? { ...call, path: this.#relative(url), query: {} } : undefined;
    }
  }

  async close(): Promise<void> {
    if (!this.#options.dispatcher) await this.#dispatcher.close();
  }

  #relative(url: string): string {
    const parsed = new URL(url, this.#baseUrl);
    const base = new URL(this.#baseUrl);
    const basePath = base.pathname.replace(/\/+$/, '');
    const path = parsed.pathname.startsWith(basePath) ? parsed.pathname.slice(basePath.length) : parsed.pathname;
    return `${path}${parsed.search}`;
  }

  async #sendOnce(call: HttpCall): Promise<HttpAnswer> {
    const { provider } = this.#options;
    const secrets = [...(this.#options.secrets ?? []), ...(call.secrets ?? [])];
    if (this.#options.rateLimiter) await this.#options.rateLimiter.acquire();
    // A lease holder's step deadline (src/runtime/step-deadline.ts): past it, no request leaves, and none is retried.
    const deadline = currentStepDeadline();
    if (deadline?.aborted) throw pastDeadline(provider);
    const url = new URL(`${this.#baseUrl}${call.path}`);
    for (const [name, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(this.#options.headers?.() ?? {}),
      ...(call.headers ?? {}),
    };
    let body: string | undefined;
    if (call.json !== undefined) {
      body = JSON.stringify(call.json);
      headers['content-type'] = 'application/json';
    }
    if (call.form !== undefined) {
      body = new URLSearchParams(call.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    let answer: HttpAnswer;
    try {
      const response = await request(url, {
        method: call.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        dispatcher: this.#dispatcher,
        headersTimeout: this.#options.timeoutMs,
        bodyTimeout: this.#options.timeoutMs,
        signal: deadline
          ? AbortSignal.any([AbortSignal.timeout(this.#options.timeoutMs), deadline])
          : AbortSignal.timeout(this.#options.timeoutMs),
      });
      const text = await response.body.text();
      answer = {
        status: response.statusCode,
        headers: response.headers,
        text,
        body: parseBody(text, response.headers),
      };
    } catch (error) {
      if (deadline?.aborted) throw pastDeadline(provider);
      throw transportError(provider, error);
    }
    const accepted = call.accept?.includes(answer.status) ?? false;
    if ((answer.status >= 200 && answer.status < 300) || accepted) return answer;
    throw this.#errorFor(answer, secrets);
  }

  #errorFor(answer: HttpAnswer, secrets: SecretValue[]): ProviderError {
    return providerErrorFromAnswer(this.#options.provider, answer, this.#options.parseError, secrets);
  }
}

/**
 * The ProviderError an error answer means: the provider's own message and code read by its parser, the status,
 * Retry-After (or the provider's own reset hint), and the given secrets cut out of every text.
 */
export function providerErrorFromAnswer(
  provider: string,
  answer: HttpAnswer,
  parseError: ProviderErrorParser,
  secrets: ReadonlyArray<SecretValue | undefined>,
): ProviderError {
  let parsed: ProviderErrorBody;
  try {
    parsed = parseError(answer);
  } catch {
    parsed = { message: answer.text || `HTTP ${answer.status}` };
  }
  const retryAfterMs =
    parseRetryAfter(headerText(answer.headers['retry-after'])) ??
    (parsed.retryAfterSeconds !== undefined ? parsed.retryAfterSeconds * 1000 : undefined);
  const code = parsed.code ?? codeForStatus(answer.status);
  return new ProviderError(code, provider, redactSecrets(parsed.message || `HTTP ${answer.status}`, secrets), {
    status: answer.status,
    ...(parsed.providerCode ? { providerCode: redactSecrets(parsed.providerCode, secrets) } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterSeconds: retryAfterMs / 1000 } : {}),
  });
}

/** The ProviderError code an HTTP status means when the provider's body says nothing more specific. */
export function codeForStatus(status: number): ProviderErrorCode {
  if (status === 429) return 'E_PROVIDER_RATE_LIMITED';
  if (status === 401 || status === 403) return 'E_PROVIDER_AUTH';
  if (status === 404 || status === 410) return 'E_PROVIDER_NOT_FOUND';
  if (status === 409) return 'E_PROVIDER_CONFLICT';
  if (status === 408 || status === 504) return 'E_PROVIDER_TIMEOUT';
  if (status >= 500) return 'E_PROVIDER_UNAVAILABLE';
  if (status >= 400) return 'E_PROVIDER_INVALID_REQUEST';
  return 'E_PROVIDER';
}

/**
 * The step's deadline passed: not retried here, the caller decides (the rotation searches before it mints again).
 * The SDK path (sdk-caller.ts) raises the same error, so a rotation treats both paths alike.
 */
export function pastDeadline(provider: string): ProviderError {
  return new ProviderError('E_PROVIDER_TIMEOUT', provider, "no answer before the step's deadline", {
    providerCode: 'STEP_DEADLINE',
    retryable: false,
  });
}

/** Maps a failure without an answer (timeout, refused or dropped connection) to a retryable ProviderError. */
export function transportError(provider: string, error: unknown): ProviderError {
  const err = error as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code;
  const timedOut =
    err.name === 'TimeoutError' ||
    err.name === 'AbortError' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'ETIMEDOUT';
  if (timedOut) {
    return new ProviderError('E_PROVIDER_TIMEOUT', provider, 'no answer within the timeout', {
      providerCode: code ?? 'TIMEOUT',
      retryable: true,
    });
  }
  // Transport messages name hosts and sockets, never request content, so they are safe to keep.
  return new ProviderError(
    'E_PROVIDER_UNAVAILABLE',
    provider,
    `connection failed: ${code ?? err.message ?? 'unknown'}`,
    {
      providerCode: code ?? 'CONNECTION',
      retryable: true,
    },
  );
}

function parseBody(text: string, headers: Record<string, string | string[] | undefined>): unknown {
  const type = headerText(headers['content-type']) ?? '';
  if (text !== '' && (type.includes('json') || /^\s*[[{]/.test(text))) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

export function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function nextLink(value: string | string[] | undefined): string | undefined {
  const text = headerText(value);
  if (!text) return undefined;
  for (const part of text.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match) return match[1];
  }
  return undefined;
}
