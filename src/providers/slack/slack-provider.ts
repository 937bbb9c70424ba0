// The Slack adapter: manual. Tokens and incoming webhooks are created in the app's configuration, not by API, so
// create and list are unsupported and rotation is a ticket. What Slack's Web API does allow: a bot or user token
// proves itself with `auth.test` and revokes itself with `auth.revoke` (so revoke() needs the token). An incoming
// webhook can be proven only by posting a message: verify refuses rather than post. No adapter credential.
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
import {
  SLACK_CAPABILITIES,
  SLACK_DEAD_TOKEN_ERRORS,
  SLACK_PROVIDER_NAME,
  SLACK_RATE_LIMIT,
} from './slack-constants.js';
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

export class SlackProvider implements Provider {
  readonly name = SLACK_PROVIDER_NAME;
  readonly #options: SlackOptions;
  readonly #http: ProviderHttpClient;

  constructor(options: SlackOptionsInput | SlackOptions, context: ProviderContext) {
    this.#options = slackOptionsSchema.parse(options);
    const limit = effectiveRateLimit(SLACK_RATE_LIMIT, this.#options.rateLimit);
    this.#http = new ProviderHttpClient(
      {
        provider: this.name,
        baseUrl: this.#options.baseUrl,
        timeoutMs: this.#options.timeoutMs,
        retry: this.#options.retry,
        parseError: parseSlackError,
        ...(limit ? { rateLimiter: new TokenBucket(limit) } : {}),
        headers: () => ({ 'user-agent': 'keyledger' }),
      },
      { ...(context.sleep ? { sleep: context.sleep } : {}), ...(context.random ? { random: context.random } : {}) },
    );
  }

  capabilities(): ProviderCapabilities {
    return structuredClone(SLACK_CAPABILITIES);
  }

  rateLimit(): RateLimit {
    return effectiveRateLimit(SLACK_RATE_LIMIT, this.#options.rateLimit) ?? SLACK_RATE_LIMIT;
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
    const answer = await this.#http.send({
      method: 'POST',
      path: '/auth.test',
      headers: { authorization: `Bearer ${secret.reveal()}` },
      // auth.test changes nothing: a lost answer may be asked again.
      idempotent: true,
      secrets: [secret],
    });
    const body = slackAnswerSchema.parse(answer.body);
    if (!body.ok) return { valid: false, reason: body.error ?? 'not ok' };
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
    const answer = await this.#http.send({
      method: 'POST',
      path: '/auth.revoke',
      headers: { authorization: `Bearer ${secret.reveal()}` },
      idempotent: true,
      secrets: [secret],
    });
    const body = slackAnswerSchema.parse(answer.body);
    if (body.ok || SLACK_DEAD_TOKEN_ERRORS.has(body.error ?? '')) return;
    throw new ProviderError('E_PROVIDER', this.name, `auth.revoke: ${body.error ?? 'not ok'}`, {
      status: answer.status,
      ...(body.error ? { providerCode: body.error } : {}),
    });
  }

  async lastUsed(): Promise<LastUsed> {
    throw this.#unsupported('lastUsed: Slack shows no last use of a token or webhook');
  }

  async close(): Promise<void> {
    await this.#http.close();
  }

  #unsupported(message: string): ProviderError {
    return new ProviderError('E_PROVIDER_UNSUPPORTED', this.name, message);
  }
}
