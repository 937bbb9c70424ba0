// The OpenAI adapter, on the official SDK (`openai`, Stainless-generated): its typed admin surface
// (`client.admin.organization.projects...`, authenticated with the admin key as `adminAPIKey`) for create = a new
// project service account (whose answer carries its key) or another key for an existing service account; list, get
// (`last_used_at`) and delete project API keys — users' keys included, which only their users can create; verify =
// `client.models.list()` (`GET /v1/models`) on a client built with the key itself. The account is the project.
// The SDK's own retries are off (ours apply through SdkCaller), its timeout is `timeoutMs`, its base URL is
// `baseUrl` + `/v1`; what it throws is read back into the answer it got and parsed by `parseOpenaiError`.
import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OpenAIError,
} from 'openai';
import { ProviderError } from '../../errors/provider-error.js';
import { SecretValue } from '../../secrets/secret-value.js';
import { type HttpAnswer, headerText, type ProviderErrorBody } from '../http/provider-http-client.js';
import { type SdkCaller, sdkAnswer, transportErrorOfChain } from '../http/sdk-caller.js';
import type { CreatedKey, CreateKeyRequest, LastUsed, ProviderKey, ProviderKeyRef, VerifyResult } from '../provider.js';
import { ProviderAdapter } from '../provider-adapter.js';
import type { ProviderContext } from '../provider-context.js';
import { openaiProviderRegistration } from './index.js';
import { OPENAI_PAGE_SIZE, OPENAI_PROVIDER_NAME } from './openai-constants.js';
import {
  type OpenaiOptions,
  type OpenaiOptionsInput,
  openaiErrorSchema,
  openaiOptionsSchema,
  openaiProjectIdSchema,
  openaiProjectKeySchema,
  openaiServiceAccountCreatedSchema,
  openaiServiceAccountKeySchema,
} from './openai-schemas.js';

/** `x-ratelimit-reset-requests` is a duration such as `1s`, `6m0s`, `20ms`: seconds, or undefined. */
export function parseOpenaiDuration(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length === 0) return undefined;
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  return parts.reduce((sum, [, value, u]) => sum + Number(value) * unit[u!]!, 0);
}

/** OpenAI's `{error: {message, type, param, code}}`; the code (`invalid_api_key`, `rate_limit_exceeded`) is kept. */
export function parseOpenaiError(answer: HttpAnswer): ProviderErrorBody {
  const parsed = openaiErrorSchema.safeParse(answer.body);
  const error = parsed.success ? parsed.data.error : undefined;
  const providerCode = error?.code ?? error?.type ?? undefined;
  const reset = parseOpenaiDuration(headerText(answer.headers['x-ratelimit-reset-requests']));
  return {
    message: error?.message ?? (answer.text.trim() || `HTTP ${answer.status}`),
    ...(providerCode ? { providerCode } : {}),
    ...(providerCode === 'rate_limit_exceeded' ? { code: 'E_PROVIDER_RATE_LIMITED' as const } : {}),
    ...(answer.status === 429 && reset !== undefined ? { retryAfterSeconds: reset } : {}),
  };
}

/**
 * The answer inside an `OpenAI.APIError`: status, headers, and the body — the SDK keeps a JSON body's `error`
 * object (`error.error`) and, for a body that is not JSON, its text in the message after the status.
 * Connection errors (`APIConnectionError`, `APIConnectionTimeoutError`) are APIErrors without a status: no answer.
 */
export function openaiAnswerOf(error: unknown): HttpAnswer | undefined {
  if (!(error instanceof APIError) || typeof error.status !== 'number') return undefined;
  if (error.error !== undefined && error.error !== null) {
    return sdkAnswer(error.status, error.headers, { error: error.error });
  }
  const prefix = `${error.status} `;
  const rest = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  return sdkAnswer(error.status, error.headers, rest === 'status code (no body)' ? '' : rest);
}

/** A failure without an answer: the SDK's timeout (or our per-attempt signal) is a retryable timeout. */
function openaiTransportError(error: unknown): ProviderError {
  if (error instanceof APIConnectionTimeoutError || error instanceof APIUserAbortError) {
    return new ProviderError('E_PROVIDER_TIMEOUT', OPENAI_PROVIDER_NAME, 'no answer within the timeout', {
      providerCode: 'TIMEOUT',
      retryable: true,
    });
  }
  if (error instanceof SyntaxError) {
    // A 2xx JSON answer that does not parse; the parser's message quotes the body (a key, maybe): not kept.
    return new ProviderError('E_PROVIDER', OPENAI_PROVIDER_NAME, 'OpenAI answered with malformed JSON', {
      retryable: false,
    });
  }
  if (error instanceof APIConnectionError || !(error instanceof OpenAIError)) {
    // A refused or dropped connection (the socket error is the cause), or a body cut off mid-read.
    return transportErrorOfChain(OPENAI_PROVIDER_NAME, error);
  }
  // The SDK refused to send the call (e.g. a path parameter `..`); only its first line, which names no value.
  const reason = error.message.split('\n', 1)[0] || 'refused';
  const message = `the OpenAI SDK refused the call: ${reason}`;
  return new ProviderError('E_PROVIDER_INVALID_REQUEST', OPENAI_PROVIDER_NAME, message, { retryable: false });
}

function seconds(value: number | null | undefined): Date | undefined {
  return value === null || value === undefined ? undefined : new Date(value * 1000);
}

export class OpenaiProvider extends ProviderAdapter {
  readonly #options: OpenaiOptions;
  readonly #context: ProviderContext;
  readonly #caller: SdkCaller;
  /** The admin API client; absent without `adminKey` (verify needs none). */
  readonly #adminClient: OpenAI | undefined;

  constructor(options: OpenaiOptionsInput | OpenaiOptions, context: ProviderContext) {
    const parsed = openaiOptionsSchema.parse(options);
    super(openaiProviderRegistration, parsed, context);
    this.#options = parsed;
    this.#context = context;
    this.#caller = this.sdkCaller({
      answerOf: openaiAnswerOf,
      parseError: parseOpenaiError,
      transportErrorOf: openaiTransportError,
      secrets: [this.#options.adminKey],
    });
    const { adminKey } = this.#options;
    this.#adminClient = adminKey ? this.#client({ apiKey: null, adminAPIKey: adminKey.reveal() }) : undefined;
  }

  /**
   * An SDK client on `baseUrl` + `/v1` with its retries off (ours apply) and `timeoutMs` per attempt. Everything
   * the SDK would otherwise read from the environment (OPENAI_BASE_URL, _ORG_ID, _PROJECT_ID, _LOG) is pinned.
   */
  #client(auth: { apiKey: string | null; adminAPIKey: string | null }): OpenAI {
    return new OpenAI({
      ...auth,
      organization: null,
      project: null,
      baseURL: `${this.#options.baseUrl.replace(/\/+$/, '')}/v1`,
      maxRetries: 0,
      timeout: this.#options.timeoutMs,
      logLevel: 'off',
      defaultHeaders: { 'user-agent': 'keyledger' },
    });
  }

  /** The admin API client; every call but verify needs the admin key. */
  get #admin(): OpenAI['admin']['organization'] {
    if (!this.#adminClient) {
      throw new ProviderError('E_PROVIDER_AUTH', this.name, 'this call needs the `adminKey` option (an sk-admin- key)');
    }
    return this.#adminClient.admin.organization;
  }

  /**
   * Per-attempt request options: the SDK's `timeout` stops waiting for the headers only, so a signal with the
   * same bound covers reading the body too (its abort is mapped to a timeout).
   */
  #attempt(): { signal: AbortSignal } {
    return { signal: AbortSignal.timeout(this.#options.timeoutMs) };
  }

  #project(account: string | undefined): string {
    const parsed = openaiProjectIdSchema.safeParse(account);
    if (!parsed.success) {
      throw new ProviderError(
        'E_PROVIDER_INVALID_REQUEST',
        this.name,
        `account must be a project id (proj_...)${account ? `, not ${account}` : ''}`,
      );
    }
    return parsed.data;
  }

  /** A new service account named after the request, or (options.serviceAccountId) another key of an existing one. */
  async create(request: CreateKeyRequest): Promise<CreatedKey> {
    const project = this.#project(request.account);
    const admin = this.#admin;
    const serviceAccountId = request.options?.serviceAccountId;
    if (typeof serviceAccountId === 'string') {
      const expires = request.expiresAt
        ? Math.max(1, Math.round((request.expiresAt.getTime() - this.#context.clock().getTime()) / 1000))
        : undefined;
      // `expires_in_seconds` is in OpenAI's API reference but not yet in the SDK's typed params: sent as an
      // undocumented param, which the SDK passes through in the body.
      const params: OpenAI.Admin.Organization.Projects.ServiceAccounts.APIKeyCreateParams & {
        expires_in_seconds?: number;
      } = { project_id: project, name: request.name, ...(expires ? { expires_in_seconds: expires } : {}) };
      const answer = await this.#caller.call({ idempotent: false }, () =>
        admin.projects.serviceAccounts.apiKeys.create(serviceAccountId, params, this.#attempt()),
      );
      const key = openaiServiceAccountKeySchema.parse(answer);
      return {
        providerKeyId: key.id,
        account: project,
        secret: new SecretValue(key.value),
        createdAt: seconds(key.created_at) ?? this.#context.clock(),
        ...(key.expires_at ? { expiresAt: new Date(key.expires_at * 1000) } : {}),
      };
    }
    const answer = await this.#caller.call({ idempotent: false }, () =>
      admin.projects.serviceAccounts.create(project, { name: request.name }, this.#attempt()),
    );
    const account = openaiServiceAccountCreatedSchema.parse(answer);
    if (!account.api_key)
      throw new ProviderError('E_PROVIDER', this.name, 'OpenAI created the service account without a key');
    return {
      providerKeyId: account.api_key.id,
      account: project,
      secret: new SecretValue(account.api_key.value),
      createdAt: seconds(account.api_key.created_at) ?? this.#context.clock(),
    };
  }

  /** One project's keys, or every project's (`projects.list()`) without an account. */
  async *list(options: { account?: string } = {}): AsyncIterable<ProviderKey> {
    const projects = options.account !== undefined ? [this.#project(options.account)] : [];
    const admin = this.#admin;
    if (options.account === undefined) {
      const pages = this.#pages((after) => admin.projects.list({ limit: OPENAI_PAGE_SIZE, after }, this.#attempt()));
      for await (const project of pages) projects.push(project.id);
    }
    for (const project of projects) {
      const pages = this.#pages((after) =>
        admin.projects.apiKeys.list(project, { limit: OPENAI_PAGE_SIZE, after }, this.#attempt()),
      );
      for await (const item of pages) {
        const key = openaiProjectKeySchema.parse(item);
        const owner = key.owner?.service_account
          ? `service_account:${key.owner.service_account.id}`
          : (key.owner?.user?.email ?? key.owner?.user?.id);
        yield {
          providerKeyId: key.id,
          account: project,
          status: 'active',
          ...(key.name ? { name: key.name } : {}),
          ...(seconds(key.created_at) ? { createdAt: seconds(key.created_at)! } : {}),
          ...(seconds(key.last_used_at) ? { lastUsedAt: seconds(key.last_used_at)! } : {}),
          ...(owner ? { createdBy: owner } : {}),
        };
      }
    }
  }

  /** `GET /v1/models` on a client holding the key itself (no admin key needed); the project is a response header. */
  async verify(secret: SecretValue): Promise<VerifyResult> {
    const client = this.#client({ apiKey: secret.reveal(), adminAPIKey: null });
    try {
      const { response } = await this.#caller.call({ idempotent: true, secrets: [secret] }, () =>
        client.models.list(this.#attempt()).withResponse(),
      );
      const project = response.headers.get('openai-project');
      return { valid: true, ...(project ? { identity: project } : {}) };
    } catch (error) {
      if (error instanceof ProviderError && (error.status === 401 || error.status === 403)) {
        // The provider's own words, with the key cut out (OpenAI shows only a redacted form of it).
        return { valid: false, reason: error.message.replace(/^openai: /, '') };
      }
      throw error;
    }
  }

  /** Deletes the key (a service account's too; the account itself stays, holding no key). */
  async revoke(ref: ProviderKeyRef): Promise<void> {
    const project = this.#project(ref.account);
    const admin = this.#admin;
    try {
      await this.#caller.call({ idempotent: true }, () =>
        admin.projects.apiKeys.delete(ref.providerKeyId, { project_id: project }, this.#attempt()),
      );
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return;
      throw error;
    }
  }

  async lastUsed(ref: ProviderKeyRef): Promise<LastUsed> {
    const project = this.#project(ref.account);
    const admin = this.#admin;
    const answer = await this.#caller.call({ idempotent: true }, () =>
      admin.projects.apiKeys.retrieve(ref.providerKeyId, { project_id: project }, this.#attempt()),
    );
    return { at: seconds(openaiProjectKeySchema.parse(answer).last_used_at) ?? null };
  }

  /** The SDK holds no connection of its own (it sends through the global fetch): nothing to release. */
  async close(): Promise<void> {}

  /**
   * OpenAI's cursor paging (`limit`, then `after=<last_id>` while `has_more`), one SDK page call at a time so
   * each page is paced, retried and error-mapped by the caller (the SDK's auto-paging would bypass it).
   */
  async *#pages<Item>(
    page: (after: string | undefined) => Promise<{ data: Item[]; has_more: boolean; last_id: string }>,
  ): AsyncIterable<Item> {
    let after: string | undefined;
    for (;;) {
      const current = await this.#caller.call({ idempotent: true }, () => page(after));
      yield* current.data;
      if (!current.has_more || !current.last_id) return;
      after = current.last_id;
    }
  }
}
