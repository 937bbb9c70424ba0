// The SendGrid adapter, on the official SDK (`@sendgrid/client`, a `Client` instance per adapter, never the module's
// shared singleton): API keys of the parent account or of a subuser (`on-behalf-of`, per request) — create (the key
// is shown once), list, delete — and verify through `GET /v3/scopes`, which any working key may call, sent by a
// client built for that call with the key itself. A key names its own id (`SG.<api_key_id>.<secret>`). SendGrid
// records no last use of a key: capabilities say so. The SDK has no typed methods per endpoint: every call is its
// generic `client.request({ method, url, qs, body, headers })`, so transport, auth and errors go through the SDK
// (axios underneath). It never retries (one axios call per request); ours apply, through SdkCaller.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { createRequire } from 'node:module';
import { Client } from '@sendgrid/client';
import type { ClientRequest } from '@sendgrid/client/src/request.js';
import { ProviderError } from '../../errors/provider-error.js';
import { redactSecrets } from '../../runtime/secret-redaction.js';
import { SecretValue } from '../../secrets/secret-value.js';
import { type HttpAnswer, headerText, type ProviderErrorBody, transportError } from '../http/provider-http-client.js';
import { type SdkCaller, sdkAnswer, transportErrorOfChain } from '../http/sdk-caller.js';
import type { CreatedKey, CreateKeyRequest, LastUsed, ProviderKey, ProviderKeyRef, VerifyResult } from '../provider.js';
import { ProviderAdapter } from '../provider-adapter.js';
import type { ProviderContext } from '../provider-context.js';
import { sendgridProviderRegistration } from './index.js';
import {
  SENDGRID_MAX_KEYS_PER_USER,
  SENDGRID_PROVIDER_NAME,
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

/**
 * The class the SDK throws for an answer of status 400 or more (`code` = status, `response.headers`,
 * `response.body`). `@sendgrid/client` does not re-export it: it is loaded the way the SDK itself loads it, from
 * the SDK's own `@sendgrid/helpers`, so `instanceof` matches what the SDK throws.
 */
const requireFromSdk = createRequire(createRequire(import.meta.url).resolve('@sendgrid/client'));
const ResponseError = requireFromSdk('@sendgrid/helpers/classes/response-error') as new (
  ...args: never[]
) => Error & { code: number; response: { headers: Record<string, string>; body: unknown } };

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

/** The answer inside what the SDK threw; undefined for a failure without one (timeout, dropped connection). */
export function sendgridAnswerOf(error: unknown): HttpAnswer | undefined {
  if (error instanceof ResponseError) return sdkAnswer(error.code, error.response.headers, error.response.body);
  // Below 400 the SDK passes axios' own error on (a redirect it did not follow): the answer is on it.
  const axiosError = error as { isAxiosError?: boolean; response?: { status: number; headers: object; data: unknown } };
  if (axiosError?.isAxiosError && axiosError.response) {
    const { status, headers, data } = axiosError.response;
    return sdkAnswer(status, headers as Record<string, string | string[] | undefined>, data);
  }
  return undefined;
}

/** Axios names its own timeout `ECONNABORTED` (`ETIMEDOUT` with `transitional.clarifyTimeoutError`). */
function sendgridTransportError(error: unknown): ProviderError {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
    return transportError(SENDGRID_PROVIDER_NAME, { name: 'TimeoutError' });
  }
  return transportErrorOfChain(SENDGRID_PROVIDER_NAME, error);
}

/** The subuser a call acts for, as SendGrid reads it; none for the parent account. */
function onBehalfOf(account: string | undefined): Record<string, string> {
  return account ? { 'on-behalf-of': account } : {};
}

export class SendgridProvider extends ProviderAdapter {
  readonly #options: SendgridOptions;
  readonly #caller: SdkCaller;
  /** The sockets of this adapter's SDK clients (its own and verify's), released by close(). */
  readonly #httpAgent = new HttpAgent({ keepAlive: true });
  readonly #httpsAgent = new HttpsAgent({ keepAlive: true });
  /** The SDK client holding the adapter's key; undefined without one (verify alone works then). */
  readonly #adminClient: Client | undefined;

  constructor(options: SendgridOptionsInput | SendgridOptions, context: ProviderContext) {
    const parsed = sendgridOptionsSchema.parse(options);
    super(sendgridProviderRegistration, parsed, context);
    this.#options = parsed;
    this.#caller = this.sdkCaller({
      answerOf: sendgridAnswerOf,
      parseError: parseSendgridError,
      transportErrorOf: sendgridTransportError,
      secrets: [this.#options.apiKey],
    });
    this.#adminClient = this.#options.apiKey ? this.#sdkClient(this.#options.apiKey) : undefined;
  }

  /** An SDK client of its own (not the module's singleton) calling with `key`, at our base URL and timeout. */
  #sdkClient(key: SecretValue): Client {
    const client = new Client();
    // setApiKey also points the client at SendGrid's global host: the base URL is set after it.
    client.setApiKey(key.reveal());
    client.setDefaultHeader('User-Agent', 'keyledger');
    // The SDK hands its default request to axios merged into every call (`baseUrl` becoming axios' `baseURL`), so
    // axios options its typings omit pass through too: `timeout` (per attempt) and the agents close() releases.
    const defaults: ClientRequest & { timeout: number; httpAgent: HttpAgent } = {
      url: '',
      baseUrl: this.#options.baseUrl,
      timeout: this.#options.timeoutMs,
      httpAgent: this.#httpAgent,
      httpsAgent: this.#httpsAgent,
    };
    client.setDefaultRequest(defaults);
    return client;
  }

  /** The adapter's client; every call but verify needs the adapter's key. */
  get #admin(): Client {
    if (!this.#adminClient) {
      throw new ProviderError(
        'E_PROVIDER_AUTH',
        this.name,
        'this call needs the `apiKey` option (a key with api_keys.*)',
      );
    }
    return this.#adminClient;
  }

  /** The account is a subuser's username; without one, the parent account. Permissions are SendGrid scopes. */
  async create(request: CreateKeyRequest): Promise<CreatedKey> {
    const client = this.#admin;
    const [response] = await this.#caller.call({ idempotent: false }, () =>
      client.request({
        method: 'POST',
        url: '/v3/api_keys',
        headers: onBehalfOf(request.account),
        body: { name: request.name, ...(request.permissions?.length ? { scopes: request.permissions } : {}) },
      }),
    );
    const created = sendgridCreatedKeySchema.parse(response.body);
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
    const client = this.#admin;
    const [response] = await this.#caller.call({ idempotent: true }, () =>
      client.request({
        method: 'GET',
        url: '/v3/api_keys',
        // The list is not paged; `limit` caps it, and a user holds at most 100 keys.
        qs: { limit: SENDGRID_MAX_KEYS_PER_USER },
        headers: onBehalfOf(account),
      }),
    );
    for (const key of sendgridKeyListSchema.parse(response.body).result) {
      // The list names keys and ids only; `GET /v3/api_keys/{api_key_id}` adds the scopes, which tell an admin key.
      const scopes = key.scopes ?? (await this.#scopesOf(key.api_key_id, account));
      yield {
        providerKeyId: key.api_key_id,
        ...(account ? { account } : {}),
        status: 'active',
        ...(key.name ? { name: key.name } : {}),
        ...(scopes ? { permissions: scopes } : {}),
      };
    }
  }

  /** A key's scopes from its details; undefined when the key went between the list and this call. */
  async #scopesOf(id: string, account: string | undefined): Promise<string[] | undefined> {
    const client = this.#admin;
    try {
      const [response] = await this.#caller.call({ idempotent: true }, () =>
        client.request({ method: 'GET', url: `/v3/api_keys/${encodeURIComponent(id)}`, headers: onBehalfOf(account) }),
      );
      return sendgridKeyListSchema.parse(response.body).result[0]?.scopes ?? undefined;
    } catch (error) {
      if (error instanceof ProviderError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** The parent's subusers, paged by `limit` / `offset`; a key without `subusers.read` sees none. */
  async *#subusers(): AsyncIterable<string> {
    const client = this.#admin;
    for (let offset = 0; ; offset += SENDGRID_SUBUSER_PAGE_SIZE) {
      let body: unknown;
      try {
        [{ body }] = await this.#caller.call({ idempotent: true }, () =>
          client.request({ method: 'GET', url: '/v3/subusers', qs: { limit: SENDGRID_SUBUSER_PAGE_SIZE, offset } }),
        );
      } catch (error) {
        // Without subuser access the parent's own keys are all there is to list.
        if (error instanceof ProviderError && error.status === 403) return;
        throw error;
      }
      const page = sendgridSubuserListSchema.parse(body);
      for (const subuser of page) yield subuser.username;
      if (page.length < SENDGRID_SUBUSER_PAGE_SIZE) return;
    }
  }

  /** `GET /v3/scopes` with the key itself, through a client built for this call: no adapter credential needed. */
  async verify(secret: SecretValue): Promise<VerifyResult> {
    const client = this.#sdkClient(secret);
    const outcome = await this.#caller.call(
      { idempotent: true, secrets: [secret] },
      async (): Promise<{ body: unknown } | { refused: HttpAnswer }> => {
        try {
          const [response] = await client.request({ method: 'GET', url: '/v3/scopes' });
          return { body: response.body };
        } catch (error) {
          // A refused key is verify's answer, not a failure.
          if (error instanceof ResponseError && (error.code === 401 || error.code === 403)) {
            return { refused: sdkAnswer(error.code, error.response.headers, error.response.body) };
          }
          throw error;
        }
      },
    );
    if ('refused' in outcome) {
      return { valid: false, reason: redactSecrets(parseSendgridError(outcome.refused).message, [secret]) };
    }
    sendgridScopesSchema.parse(outcome.body);
    const id = sendgridKeyId(secret.reveal());
    return { valid: true, ...(id ? { providerKeyId: id } : {}) };
  }

  async revoke(ref: ProviderKeyRef): Promise<void> {
    const client = this.#admin;
    try {
      await this.#caller.call({ idempotent: true }, () =>
        client.request({
          method: 'DELETE',
          url: `/v3/api_keys/${encodeURIComponent(ref.providerKeyId)}`,
          headers: onBehalfOf(ref.account),
        }),
      );
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return;
      throw error;
    }
  }

  async lastUsed(): Promise<LastUsed> {
    throw new ProviderError('E_PROVIDER_UNSUPPORTED', this.name, 'SendGrid records no last use of an API key');
  }

  /** Releases the sockets of the SDK clients. */
  async close(): Promise<void> {
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }
}
