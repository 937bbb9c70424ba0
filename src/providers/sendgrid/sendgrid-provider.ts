// The SendGrid adapter: API keys of the parent account or of a subuser (`on-behalf-of`) — create (the key is shown
// once), list, delete — and verify through `GET /v3/scopes`, which any working key may call. A key names its own
// id (`SG.<api_key_id>.<secret>`). SendGrid records no last use of a key: capabilities say so.
import { SecretValue } from '../../secrets/secret-value.js';
import {
  type HttpAnswer,
  headerText,
  type ProviderErrorBody,
  ProviderHttpClient,
} from '../http/provider-http-client.js';
import { effectiveRateLimit } from '../http/provider-http-options.js';
import { TokenBucket } from '../http/token-bucket.js';
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
} from '../provider.js';
import type { ProviderContext } from '../provider-context.js';
import { ProviderError } from '../provider-error.js';
import {
  SENDGRID_CAPABILITIES,
  SENDGRID_MAX_KEYS_PER_USER,
  SENDGRID_PROVIDER_NAME,
  SENDGRID_RATE_LIMIT,
  SENDGRID_SUBUSER_PAGE_SIZE,
} from './sendgrid-constants.js';
import {
  type SendgridOptions,
  type SendgridOptionsInput,
  sendgridCreatedKeySchema,
  sendgridErrorSchema,
  sendgridKeyListSchema,
  sendgridOptionsSchema,
  sendgridScopesSchema,
  sendgridSubuserListSchema,
} from './sendgrid-schemas.js';

/** SendGrid's `{errors: [{field, message}]}`; on 429 `X-RateLimit-Reset` is the Unix time the window reopens. */
export function parseSendgridError(answer: HttpAnswer): ProviderErrorBody {
  const parsed = sendgridErrorSchema.safeParse(answer.body);
  const message = parsed.success
    ? parsed.data.errors.map((e) => (e.field ? `${e.field}: ${e.message ?? ''}` : (e.message ?? ''))).join('; ')
    : answer.text.trim();
  const reset = Number(headerText(answer.headers['x-ratelimit-reset']));
  return {
    message: message || `HTTP ${answer.status}`,
    ...(answer.status === 429 && Number.isFinite(reset) && reset > 0
      ? { retryAfterSeconds: Math.max(0, reset - Math.floor(Date.now() / 1000)) }
      : {}),
  };
}

/** `SG.<api_key_id>.<secret>`: the id a key carries, or undefined for text of another shape. */
function sendgridKeyId(key: string): string | undefined {
  return /^SG\.([A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{43}$/.exec(key)?.[1];
}

export class SendgridProvider implements Provider {
  readonly name = SENDGRID_PROVIDER_NAME;
  readonly #options: SendgridOptions;
  readonly #http: ProviderHttpClient;

  constructor(options: SendgridOptionsInput | SendgridOptions, context: ProviderContext) {
    this.#options = sendgridOptionsSchema.parse(options);
    const limit = effectiveRateLimit(SENDGRID_RATE_LIMIT, this.#options.rateLimit);
    this.#http = new ProviderHttpClient(
      {
        provider: this.name,
        baseUrl: this.#options.baseUrl,
        timeoutMs: this.#options.timeoutMs,
        retry: this.#options.retry,
        parseError: parseSendgridError,
        ...(limit ? { rateLimiter: new TokenBucket(limit) } : {}),
        headers: () => ({ 'user-agent': 'keyledger' }),
        ...(this.#options.apiKey ? { secrets: [this.#options.apiKey] } : {}),
      },
      { ...(context.sleep ? { sleep: context.sleep } : {}), ...(context.random ? { random: context.random } : {}) },
    );
  }

  capabilities(): ProviderCapabilities {
    return structuredClone(SENDGRID_CAPABILITIES);
  }

  rateLimit(): RateLimit {
    return effectiveRateLimit(SENDGRID_RATE_LIMIT, this.#options.rateLimit) ?? SENDGRID_RATE_LIMIT;
  }

  /** The adapter's key, acting for a subuser when the account names one. */
  #auth(account?: string): Record<string, string> {
    if (!this.#options.apiKey) {
      throw new ProviderError(
        'E_PROVIDER_AUTH',
        this.name,
        'this call needs the `apiKey` option (a key with api_keys.*)',
      );
    }
    return {
      authorization: `Bearer ${this.#options.apiKey.reveal()}`,
      ...(account ? { 'on-behalf-of': account } : {}),
    };
  }

  /** The account is a subuser's username; without one, the parent account. Permissions are SendGrid scopes. */
  async create(request: CreateKeyRequest): Promise<CreatedKey> {
    const answer = await this.#http.send({
      method: 'POST',
      path: '/v3/api_keys',
      headers: this.#auth(request.account),
      json: { name: request.name, ...(request.permissions?.length ? { scopes: request.permissions } : {}) },
      idempotent: false,
    });
    const created = sendgridCreatedKeySchema.parse(answer.body);
    return {
      providerKeyId: created.api_key_id,
      ...(request.account ? { account: request.account } : {}),
      secret: new SecretValue(created.api_key),
      // SendGrid's answer has no creation time.
      createdAt: new Date(),
    };
  }

  /** One user's keys; without an account, the parent's and then every subuser's (`GET /v3/subusers`). */
  async *list(options: { account?: string } = {}): AsyncIterable<ProviderKey> {
    if (options.account !== undefined) {
      yield* this.#listUser(options.account);
      return;
    }
    yield* this.#listUser(undefined);
    for await (const subuser of this.#subusers()) yield* this.#listUser(subuser);
  }

  async *#listUser(account: string | undefined): AsyncIterable<ProviderKey> {
    const answer = await this.#http.send({
      method: 'GET',
      path: '/v3/api_keys',
      // The list is not paged; `limit` caps it, and a user holds at most 100 keys.
      query: { limit: SENDGRID_MAX_KEYS_PER_USER },
      headers: this.#auth(account),
    });
    for (const key of sendgridKeyListSchema.parse(answer.body).result) {
      yield {
        providerKeyId: key.api_key_id,
        ...(account ? { account } : {}),
        status: 'active',
        ...(key.name ? { name: key.name } : {}),
        ...(key.scopes ? { permissions: key.scopes } : {}),
      };
    }
  }

  /** The parent's subusers, paged by `limit` / `offset`; a key without `subusers.read` sees none. */
  async *#subusers(): AsyncIterable<string> {
    for (let offset = 0; ; offset += SENDGRID_SUBUSER_PAGE_SIZE) {
      let answer: HttpAnswer;
      try {
        answer = await this.#http.send({
          method: 'GET',
          path: '/v3/subusers',
          query: { limit: SENDGRID_SUBUSER_PAGE_SIZE, offset },
          headers: this.#auth(),
        });
      } catch (error) {
        // Without subuser access the parent's own keys are all there is to list.
        if (error instanceof ProviderError && error.status === 403) return;
        throw error;
      }
      const page = sendgridSubuserListSchema.parse(answer.body);
      for (const subuser of page) yield subuser.username;
      if (page.length < SENDGRID_SUBUSER_PAGE_SIZE) return;
    }
  }

  async verify(secret: SecretValue): Promise<VerifyResult> {
    const answer = await this.#http.send({
      method: 'GET',
      path: '/v3/scopes',
      headers: { authorization: `Bearer ${secret.reveal()}` },
      accept: [401, 403],
      secrets: [secret],
    });
    if (answer.status !== 200) return { valid: false, reason: parseSendgridError(answer).message };
    sendgridScopesSchema.parse(answer.body);
    const id = sendgridKeyId(secret.reveal());
    return { valid: true, ...(id ? { providerKeyId: id } : {}) };
  }

  async revoke(ref: ProviderKeyRef): Promise<void> {
    try {
      await this.#http.send({
        method: 'DELETE',
        path: `/v3/api_keys/${encodeURIComponent(ref.providerKeyId)}`,
        headers: this.#auth(ref.account),
      });
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return;
      throw error;
    }
  }

  async lastUsed(): Promise<LastUsed> {
    throw new ProviderError('E_PROVIDER_UNSUPPORTED', this.name, 'SendGrid records no last use of an API key');
  }

  async close(): Promise<void> {
    await this.#http.close();
  }
}
