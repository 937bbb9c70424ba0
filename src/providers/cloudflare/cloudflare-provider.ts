// The Cloudflare adapter, on the official SDK (`cloudflare`, Stainless-generated): user API tokens — create
// (`user.tokens.create`, policies from the request), list (`user.tokens.list`, page by page on `result_info`),
// delete (`user.tokens.delete`), last use (`user.tokens.get`, `last_used_on`), verify (`user.tokens.verify` on a
// client holding the token itself), and rotate, which rolls the value in place (`user.tokens.value.update`,
// `PUT /user/tokens/{id}/value`). Rolling invalidates the old value at once (capabilities().nativeRotateRevokesOld):
// a rotation that must keep consumers working creates and revokes instead. The SDK's retries are off and its
// logging silenced; ours (SdkCaller) pace, retry and map its errors through `parseCloudflareError`.
import Cloudflare, { APIConnectionTimeoutError, APIError } from 'cloudflare';
import { Agent, fetch as undiciFetch } from 'undici';
import type { z } from 'zod';
import { ProviderError } from '../../errors/provider-error.js';
import { redactSecrets } from '../../runtime/secret-redaction.js';
import { SecretValue } from '../../secrets/secret-value.js';
import { type HttpAnswer, type ProviderErrorBody, transportError } from '../http/provider-http-client.js';
import { type SdkCaller, sdkAnswer, transportErrorOfChain } from '../http/sdk-caller.js';
import type { CreatedKey, CreateKeyRequest, LastUsed, ProviderKey, ProviderKeyRef, VerifyResult } from '../provider.js';
import { ProviderAdapter } from '../provider-adapter.js';
import type { ProviderContext } from '../provider-context.js';
import {
  CLOUDFLARE_DEFAULT_RESOURCES,
  CLOUDFLARE_PAGE_SIZE,
  CLOUDFLARE_PROVIDER_NAME,
} from './cloudflare-constants.js';
import {
  type CloudflareOptions,
  type CloudflareOptionsInput,
  cloudflareEnvelopeSchema,
  cloudflareOptionsSchema,
  cloudflarePolicySchema,
  cloudflareResultInfoSchema,
  cloudflareTokenSchema,
  cloudflareVerifySchema,
} from './cloudflare-schemas.js';
import { cloudflareProviderRegistration } from './index.js';

type TokenPolicies = Cloudflare.User.Tokens.TokenCreateParams['policies'];

/** Cloudflare codes that mean "slow down" even when the status does not (971: throttled). */
const THROTTLED_CODES = new Set([971, 10429]);
/** Statuses with which `GET /user/tokens/verify` refuses the token: an answer about the key, not a failure. */
const VERIFY_REFUSALS = new Set([400, 401, 403]);

/** The envelope's `errors`: the first code is the provider code, the messages joined. */
export function parseCloudflareError(answer: HttpAnswer): ProviderErrorBody {
  const parsed = cloudflareEnvelopeSchema.safeParse(answer.body);
  if (!parsed.success || parsed.data.errors.length === 0)
    return { message: answer.text.trim() || `HTTP ${answer.status}` };
  const first = parsed.data.errors[0]!;
  return {
    message: parsed.data.errors.map((error) => error.message).join('; '),
    providerCode: String(first.code),
    ...(THROTTLED_CODES.has(first.code) ? { code: 'E_PROVIDER_RATE_LIMITED' as const } : {}),
  };
}

/**
 * The answer inside an SDK error: its status, headers and body (`error` is the parsed JSON; a body that was not
 * JSON is only in the message, after the status). Connection failures and timeouts carry no status: undefined.
 */
export function cloudflareAnswerOf(error: unknown): HttpAnswer | undefined {
  if (!(error instanceof APIError) || typeof error.status !== 'number') return undefined;
  const body = error.error ?? error.message.replace(new RegExp(`^${error.status} `), '');
  // The Headers of undici's fetch (ours, below) are not the global class `sdkAnswer` recognises: flattened here.
  const headers: Record<string, string> = {};
  error.headers?.forEach((value: string, name: string) => {
    headers[name] = value;
  });
  return sdkAnswer(error.status, headers, body);
}

/** The SDK's own timeout is a timeout; any other failure without an answer is read from its cause chain. */
function cloudflareTransportError(error: unknown): ProviderError {
  if (error instanceof APIConnectionTimeoutError) {
    return transportError(CLOUDFLARE_PROVIDER_NAME, { name: 'TimeoutError' });
  }
  return transportErrorOfChain(CLOUDFLARE_PROVIDER_NAME, error);
}

export class CloudflareProvider extends ProviderAdapter {
  readonly #options: CloudflareOptions;
  readonly #context: ProviderContext;
  /** The SDK's sockets: ours, so that close() releases them, with the per-call timeout on headers and body. */
  readonly #agent: Agent;
  /** Holds the adapter's token (none: only verify works, on clients of its own). */
  readonly #client: Cloudflare;
  readonly #caller: SdkCaller;

  constructor(options: CloudflareOptionsInput | CloudflareOptions, context: ProviderContext) {
    const parsed = cloudflareOptionsSchema.parse(options);
    super(cloudflareProviderRegistration, parsed, context);
    this.#options = parsed;
    this.#context = context;
    const { timeoutMs } = this.#options;
    this.#agent = new Agent({
      keepAliveTimeout: 10_000,
      connections: 64,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const agent = this.#agent;
    this.#client = new Cloudflare({
      apiToken: this.#options.token?.reveal() ?? null,
      // Explicit nulls: the SDK would otherwise read CLOUDFLARE_API_KEY & co. from the environment.
      apiKey: null,
      apiEmail: null,
      userServiceKey: null,
      // Like the SDK's default (`https://api.cloudflare.com/client/v4`), our `baseUrl` includes `/client/v4`.
      baseURL: this.#options.baseUrl,
      maxRetries: 0,
      timeout: timeoutMs,
      // The SDK's debug logs quote answers, which may echo a key.
      logLevel: 'off',
      fetch: ((input: string | URL | Request, init?: RequestInit) =>
        undiciFetch(input as Parameters<typeof undiciFetch>[0], {
          ...(init as Parameters<typeof undiciFetch>[1]),
          dispatcher: agent,
        })) as unknown as typeof fetch,
    });
    this.#caller = this.sdkCaller({
      answerOf: cloudflareAnswerOf,
      parseError: parseCloudflareError,
      transportErrorOf: cloudflareTransportError,
      secrets: [this.#options.token],
    });
  }

  /** The client with the adapter's token; every call but verify needs it. */
  get #admin(): Cloudflare {
    if (!this.#options.token) {
      throw new ProviderError('E_PROVIDER_AUTH', this.name, 'this call needs the `token` option (API Tokens Write)');
    }
    return this.#client;
  }

  /**
   * `options.policies` are passed as Cloudflare policies; otherwise the permissions are permission-group ids
   * allowed on `options.resources` (default: the user's accounts).
   */
  async create(request: CreateKeyRequest): Promise<CreatedKey> {
    const policies = this.#policies(request);
    const client = this.#admin;
    const result = await this.#caller.call({ idempotent: false }, () =>
      client.user.tokens.create({
        name: request.name,
        policies,
        ...(request.expiresAt ? { expires_on: request.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
      }),
    );
    const token = this.#read(cloudflareTokenSchema, result, 'the created token');
    if (!token.value) throw new ProviderError('E_PROVIDER', this.name, 'Cloudflare answered without the token value');
    return {
      providerKeyId: token.id,
      account: this.#options.account,
      secret: new SecretValue(token.value),
      createdAt: token.issued_on ? new Date(token.issued_on) : this.#context.clock(),
      ...(token.expires_on ? { expiresAt: new Date(token.expires_on) } : {}),
    };
  }

  /** Page by page (each page its own paced, retried call), until `result_info` says it was the last. */
  async *list(): AsyncIterable<ProviderKey> {
    const client = this.#admin;
    for (let page = 1; ; page++) {
      const answer = await this.#caller.call({ idempotent: true }, () =>
        client.user.tokens.list({ page, per_page: CLOUDFLARE_PAGE_SIZE }),
      );
      const tokens = this.#read(cloudflareTokenSchema.array(), answer.result, 'the token list');
      for (const token of tokens) yield this.#listed(token);
      const info = cloudflareResultInfoSchema.safeParse(answer.result_info);
      if (!info.success || info.data.page >= info.data.total_pages || tokens.length === 0) break;
    }
  }

  /** `GET /user/tokens/verify` authenticated by the token itself, on a client of its own: no admin token needed. */
  async verify(secret: SecretValue): Promise<VerifyResult> {
    const client = this.#client.withOptions({ apiToken: secret.reveal() });
    type Outcome = { result: unknown } | { refused: HttpAnswer };
    const outcome = await this.#caller.call({ idempotent: true, secrets: [secret] }, async (): Promise<Outcome> => {
      try {
        return { result: await client.user.tokens.verify() };
      } catch (error) {
        const answer = cloudflareAnswerOf(error);
        // A refusal is the answer verify wants; a throttled one is retried like any other call.
        if (answer && VERIFY_REFUSALS.has(answer.status) && !parseCloudflareError(answer).code)
          return { refused: answer };
        throw error;
      }
    });
    if ('refused' in outcome) {
      return {
        valid: false,
        reason: redactSecrets(parseCloudflareError(outcome.refused).message, [secret, this.#options.token]),
      };
    }
    const token = this.#read(cloudflareVerifySchema, outcome.result, 'the verified token');
    if (token.status !== 'active')
      return { valid: false, reason: `the token is ${token.status}`, providerKeyId: token.id };
    return { valid: true, providerKeyId: token.id, identity: this.#options.account };
  }

  async revoke(ref: ProviderKeyRef): Promise<void> {
    const client = this.#admin;
    try {
      await this.#caller.call({ idempotent: true }, () => client.user.tokens.delete(ref.providerKeyId));
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return;
      throw error;
    }
  }

  async lastUsed(ref: ProviderKeyRef): Promise<LastUsed> {
    const client = this.#admin;
    const result = await this.#caller.call({ idempotent: true }, () => client.user.tokens.get(ref.providerKeyId));
    const token = this.#read(cloudflareTokenSchema, result, 'the token');
    return { at: token.last_used_on ? new Date(token.last_used_on) : null };
  }

  /**
   * Rolls the token's value: same id, name and policies, a new secret — and the old secret stops working now.
   * Retrying a roll whose answer was lost would roll again and lose that value too, so it is not idempotent.
   */
  async rotate(ref: ProviderKeyRef): Promise<CreatedKey> {
    const client = this.#admin;
    const value: unknown = await this.#caller.call({ idempotent: false }, () =>
      client.user.tokens.value.update(ref.providerKeyId),
    );
    if (typeof value !== 'string' || value === '') {
      throw new ProviderError('E_PROVIDER', this.name, 'Cloudflare answered the roll without a value');
    }
    return {
      providerKeyId: ref.providerKeyId,
      account: ref.account ?? this.#options.account,
      secret: new SecretValue(value),
      createdAt: this.#context.clock(),
    };
  }

  /** Releases the SDK's sockets. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  /** The SDK types its results but does not check them: what this adapter relies on is checked here. */
  #read<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
    const parsed = schema.safeParse(value);
    if (!parsed.success)
      throw new ProviderError('E_PROVIDER', this.name, `Cloudflare answered ${what} in an unknown shape`);
    return parsed.data;
  }

  #policies(request: CreateKeyRequest): TokenPolicies {
    const given = request.options?.policies;
    if (given !== undefined) {
      const parsed = cloudflarePolicySchema.array().min(1).safeParse(given);
      if (!parsed.success) {
        throw new ProviderError(
          'E_PROVIDER_INVALID_REQUEST',
          this.name,
          'options.policies must be Cloudflare token policies',
        );
      }
      // Passed through as given (a permission group's `name` too): the schema checked the shape Cloudflare needs.
      return parsed.data as TokenPolicies;
    }
    if (!request.permissions?.length) {
      throw new ProviderError(
        'E_PROVIDER_INVALID_REQUEST',
        this.name,
        'a Cloudflare token needs permissions (permission-group ids) or options.policies',
      );
    }
    const resources =
      (request.options?.resources as Record<string, string> | undefined) ?? CLOUDFLARE_DEFAULT_RESOURCES;
    return [{ effect: 'allow', resources, permission_groups: request.permissions.map((id) => ({ id })) }];
  }

  #listed(token: ReturnType<typeof cloudflareTokenSchema.parse>): ProviderKey {
    const status = token.status === 'active' ? 'active' : token.status === 'expired' ? 'expired' : 'inactive';
    const permissions = (token.policies ?? []).flatMap((policy) =>
      (policy.permission_groups ?? []).map((group) => group.name ?? group.id),
    );
    return {
      providerKeyId: token.id,
      account: this.#options.account,
      status,
      ...(token.name ? { name: token.name } : {}),
      ...(token.issued_on ? { createdAt: new Date(token.issued_on) } : {}),
      ...(token.expires_on ? { expiresAt: new Date(token.expires_on) } : {}),
      ...(token.last_used_on ? { lastUsedAt: new Date(token.last_used_on) } : {}),
      ...(permissions.length ? { permissions } : {}),
    };
  }
}
