// The Slack adapter, on the official Web API SDK (`@slack/web-api`): manual. Tokens and incoming webhooks are created
// in the app's configuration, not by API, so create and list are unsupported and rotation is a ticket. What Slack's
// Web API does allow: a bot or user token proves itself with `auth.test` and revokes itself with `auth.revoke` (so
// revoke() needs the token), each passed per call (`token`): the adapter holds no credential. The WebClient's retries
// are off (`retries: 0`, and a 429 rejected at once rather than waited out), ours apply through SdkCaller; its
// timeout is `timeoutMs`, its `slackApiUrl` the `baseUrl`, its logging silenced, its fetch undici's on an Agent of
// ours (closed in close()). An incoming webhook can be proven only by posting a message: verify refuses rather than
// post, so nothing here calls a webhook (the official `@slack/webhook` package is not needed, nor installed).
import {
  type FetchFunction,
  type Logger,
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from '@slack/web-api';
import { Agent, fetch as undiciFetch } from 'undici';
import { ProviderError } from '../../errors/provider-error.js';
import { redactSecrets } from '../../runtime/secret-redaction.js';
import type { SecretValue } from '../../secrets/secret-value.js';
import type { HttpAnswer, ProviderErrorBody } from '../http/provider-http-client.js';
import { type SdkCaller, sdkAnswer, transportErrorOfChain } from '../http/sdk-caller.js';
import type { CreatedKey, LastUsed, ProviderKey, ProviderKeyRef, VerifyResult } from '../provider.js';
import { ProviderAdapter } from '../provider-adapter.js';
import type { ProviderContext } from '../provider-context.js';
import { slackProviderRegistration } from './index.js';
import { SLACK_DEAD_TOKEN_ERRORS, SLACK_PROVIDER_NAME } from './slack-constants.js';
import { type SlackOptions, type SlackOptionsInput, slackAnswerSchema, slackOptionsSchema } from './slack-schemas.js';

/** Slack's `{ok: false, error}`; `ratelimited` is throttling (it comes with 429 and Retry-After). */
export function parseSlackError(answer: HttpAnswer): ProviderErrorBody {
  const parsed = slackAnswerSchema.safeParse(answer.body);
  const error = parsed.success ? parsed.data.error : undefined;
  // Slack adds `warning` (comma-separated codes) beside `error`; it is part of what Slack said.
  const warning = parsed.success ? parsed.data.warning : undefined;
  const said = error ? `${error}${warning ? ` (warning: ${warning})` : ''}` : undefined;
  return {
    message: said ?? (answer.text.trim() || `HTTP ${answer.status}`),
    ...(error ? { providerCode: error } : {}),
    ...(error === 'ratelimited' ? { code: 'E_PROVIDER_RATE_LIMITED' as const } : {}),
  };
}

function isWebhook(secret: SecretValue): boolean {
  return /^https:\/\/hooks\.slack\.com\//.test(secret.reveal());
}

/**
 * The answer a Web API error carries. Slack answers most errors with HTTP 200 and `{ok: false, error}` (the SDK's
 * platform error, with the body as `data`); other statuses come as an HTTP error with status, headers and body; a 429
 * comes as a rate-limited error holding Retry-After's seconds (the SDK drops the body). Undefined when no answer came.
 */
export function slackAnswerOf(error: unknown): HttpAnswer | undefined {
  if (error instanceof WebAPIPlatformError) return sdkAnswer(200, {}, error.data);
  if (error instanceof WebAPIHTTPError) return sdkAnswer(error.statusCode, error.headers, error.body);
  if (error instanceof WebAPIRateLimitedError) {
    return sdkAnswer(429, { 'retry-after': String(error.retryAfter) }, error.message);
  }
  // A 429 whose Retry-After is not a number of seconds (an HTTP date, or none): the SDK reads only seconds and
  // throws a plain Error naming the header's value, which is all it keeps of the answer.
  const unreadRetryAfter =
    error instanceof Error
      ? /^Retry header did not contain a valid timeout \(.*retry-after header: (.*)\)$/s.exec(error.message)
      : null;
  if (unreadRetryAfter) {
    const value = unreadRetryAfter[1]!;
    return sdkAnswer(429, value === 'null' ? {} : { 'retry-after': value }, undefined);
  }
  return undefined;
}

/** A failure without an answer: the SDK wraps fetch's (its timeout's TimeoutError, a dropped socket) as `original`. */
function slackTransportError(error: unknown): ProviderError {
  return transportErrorOfChain(SLACK_PROVIDER_NAME, error instanceof WebAPIRequestError ? error.original : error);
}

/** The WebClient logs through this: nothing (its warnings name URLs and SDK internals, never what we need). */
const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

export class SlackProvider extends ProviderAdapter {
  readonly #options: SlackOptions;
  readonly #agent: Agent;
  readonly #client: WebClient;
  readonly #caller: SdkCaller;

  constructor(options: SlackOptionsInput | SlackOptions, context: ProviderContext) {
    const parsed = slackOptionsSchema.parse(options);
    super(slackProviderRegistration, parsed, context);
    this.#options = parsed;
    const agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
    this.#agent = agent;
    const fetchFn: FetchFunction = (url, init) =>
      undiciFetch(url, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent });
    this.#client = new WebClient(undefined, {
      // The base URL is the Web API root (`https://slack.com/api`); methods are appended to it.
      slackApiUrl: `${this.#options.baseUrl.replace(/\/+$/, '')}/`,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: this.#options.timeoutMs,
      logger: silentLogger,
      fetch: fetchFn,
    });
    this.#caller = this.sdkCaller({
      answerOf: slackAnswerOf,
      parseError: parseSlackError,
      transportErrorOf: slackTransportError,
    });
  }

  async create(): Promise<CreatedKey> {
    throw this.#unsupported(
      'create: Slack tokens come from installing the app and webhooks from its Incoming Webhooks page; rotation is a ticket',
    );
  }

  // biome-ignore lint/correctness/useYield: Slack has no API listing an app's tokens or webhooks.
  async *list(): AsyncIterable<ProviderKey> {
    throw this.#unsupported("list: Slack has no API that lists an app's tokens or webhooks");
  }

  /** `auth.test` with the token: `ok` and who it is, or Slack's error code (`invalid_auth`, `token_revoked`). */
  async verify(secret: SecretValue): Promise<VerifyResult> {
    if (isWebhook(secret)) {
      throw this.#unsupported('verify: an incoming webhook can be proven only by posting a message to its channel');
    }
    // auth.test changes nothing: a lost answer may be asked again.
    const outcome = await this.#caller.call({ idempotent: true, secrets: [secret] }, () =>
      this.#send(() => this.#client.auth.test({ token: secret.reveal() })),
    );
    const body = slackAnswerSchema.parse(outcome);
    if (!body.ok) return { valid: false, reason: redactSecrets(body.error ?? 'not ok', [secret]) };
    return {
      valid: true,
      ...(body.team_id ? { identity: body.user_id ? `${body.team_id}/${body.user_id}` : body.team_id } : {}),
      ...(body.bot_id ? { providerKeyId: body.bot_id } : {}),
    };
  }

  /** `auth.revoke` called with the token itself; a token Slack already refuses counts as revoked. */
  async revoke(_ref: ProviderKeyRef, secret?: SecretValue): Promise<void> {
    if (!secret) {
      throw this.#unsupported(
        'revoke: Slack revokes a token only with the token itself (auth.revoke): pass its secret',
      );
    }
    if (isWebhook(secret)) {
      throw this.#unsupported("revoke: an incoming webhook is removed in the app's Incoming Webhooks page");
    }
    const outcome = await this.#caller.call({ idempotent: true, secrets: [secret] }, () =>
      this.#send(() => this.#client.auth.revoke({ token: secret.reveal() })),
    );
    const body = slackAnswerSchema.parse(outcome);
    if (body.ok || SLACK_DEAD_TOKEN_ERRORS.has(body.error ?? '')) return;
    throw new ProviderError(
      'E_PROVIDER',
      this.name,
      `auth.revoke: ${redactSecrets(body.error ?? 'not ok', [secret])}`,
      {
        status: 200,
        ...(body.error ? { providerCode: redactSecrets(body.error, [secret]) } : {}),
      },
    );
  }

  async lastUsed(): Promise<LastUsed> {
    throw this.#unsupported('lastUsed: Slack shows no last use of a token or webhook');
  }

  /** Releases the SDK's sockets. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  /**
   * One Web API call whose `{ok: false}` answer (HTTP 200: the SDK's platform error) is returned as the answer it
   * is, for the caller to read Slack's error code; every other failure goes on to SdkCaller.
   */
  async #send(call: () => Promise<unknown>): Promise<unknown> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof WebAPIPlatformError && error.data.error !== 'ratelimited') return error.data;
      throw error;
    }
  }

  #unsupported(message: string): ProviderError {
    return new ProviderError('E_PROVIDER_UNSUPPORTED', this.name, message);
  }
}
