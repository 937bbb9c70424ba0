// The OpenAI adapter, on the admin API: create = a new project service account (whose answer carries its key) or
// another key for an existing service account; list, get (`last_used_at`) and delete project API keys — users' keys
// included, which only their users can create; verify = `GET /v1/models` with the key. The account is the project.
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
import { OPENAI_CAPABILITIES, OPENAI_PAGE_SIZE, OPENAI_PROVIDER_NAME, OPENAI_RATE_LIMIT } from './openai-constants.js';
import {
  type OpenaiOptions,
  type OpenaiOptionsInput,
  openaiErrorSchema,
  openaiListSchema,
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

function seconds(value: number | null | undefined): Date | undefined {
  return value === null || value === undefined ? undefined : new Date(value * 1000);
}

export class OpenaiProvider implements Provider {
  readonly name = OPENAI_PROVIDER_NAME;
  readonly #options: OpenaiOptions;
  readonly #context: ProviderContext;
  readonly #http: ProviderHttpClient;

  constructor(options: OpenaiOptionsInput | OpenaiOptions, context: ProviderContext) {
    this.#options = openaiOptionsSchema.parse(options);
    this.#context = context;
    const limit = effectiveRateLimit(OPENAI_RATE_LIMIT, this.#options.rateLimit);
    this.#http = new ProviderHttpClient(
      {
        provider: this.name,
        baseUrl: this.#options.baseUrl,
        timeoutMs: this.#options.timeoutMs,
        retry: this.#options.retry,
        parseError: parseOpenaiError,
        ...(limit ? { rateLimiter: new TokenBucket(limit) } : {}),
        headers: () => ({ 'user-agent': 'keyledger' }),
        ...(this.#options.adminKey ? { secrets: [this.#options.adminKey] } : {}),
      },
      { ...(context.sleep ? { sleep: context.sleep } : {}), ...(context.random ? { random: context.random } : {}) },
    );
  }

  capabilities(): ProviderCapabilities {
    return structuredClone(OPENAI_CAPABILITIES);
  }

  rateLimit(): RateLimit {
    return effectiveRateLimit(OPENAI_RATE_LIMIT, this.#options.rateLimit) ?? OPENAI_RATE_LIMIT;
  }

  #auth(): Record<string, string> {
    if (!this.#options.adminKey) {
      throw new ProviderError('E_PROVIDER_AUTH', this.name, 'this call needs the `adminKey` option (an sk-admin- key)');
    }
    return { authorization: `Bearer ${this.#options.adminKey.reveal()}` };
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

  #keysPath(project: string): string {
    return `/v1/organization/projects/${encodeURIComponent(project)}/api_keys`;
  }

  /** A new service account named after the request, or (options.serviceAccountId) another key of an existing one. */
  async create(request: CreateKeyRequest): Promise<CreatedKey> {
    const project = this.#project(request.account);
    const base = `/v1/organization/projects/${encodeURIComponent(project)}/service_accounts`;
    const serviceAccountId = request.options?.serviceAccountId;
    if (typeof serviceAccountId === 'string') {
      const expires = request.expiresAt
        ? Math.max(1, Math.round((request.expiresAt.getTime() - this.#context.clock().getTime()) / 1000))
        : undefined;
      const answer = await this.#http.send({
        method: 'POST',
        path: `${base}/${encodeURIComponent(serviceAccountId)}/api_keys`,
        headers: this.#auth(),
        json: { name: request.name, ...(expires ? { expires_in_seconds: expires } : {}) },
        idempotent: false,
      });
      const key = openaiServiceAccountKeySchema.parse(answer.body);
      return {
        providerKeyId: key.id,
        account: project,
        secret: new SecretValue(key.value),
        createdAt: seconds(key.created_at) ?? this.#context.clock(),
        ...(key.expires_at ? { expiresAt: new Date(key.expires_at * 1000) } : {}),
      };
    }
    const answer = await this.#http.send({
      method: 'POST',
      path: base,
      headers: this.#auth(),
      json: { name: request.name },
      idempotent: false,
    });
    const account = openaiServiceAccountCreatedSchema.parse(answer.body);
    if (!account.api_key)
      throw new ProviderError('E_PROVIDER', this.name, 'OpenAI created the service account without a key');
    return {
      providerKeyId: account.api_key.id,
      account: project,
      secret: new SecretValue(account.api_key.value),
      createdAt: seconds(account.api_key.created_at) ?? this.#context.clock(),
    };
  }

  /** One project's keys, or every project's (`GET /v1/organization/projects`) without an account. */
  async *list(options: { account?: string } = {}): AsyncIterable<ProviderKey> {
    const projects: string[] = [];
    if (options.account !== undefined) projects.push(this.#project(options.account));
    else for await (const project of this.#pages('/v1/organization/projects')) projects.push(project.id);
    for (const project of projects) {
      for await (const item of this.#pages(this.#keysPath(project))) {
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

  async verify(secret: SecretValue): Promise<VerifyResult> {
    const answer = await this.#http.send({
      method: 'GET',
      path: '/v1/models',
      headers: { authorization: `Bearer ${secret.reveal()}` },
      accept: [401, 403],
      secrets: [secret],
    });
    if (answer.status !== 200) return { valid: false, reason: parseOpenaiError(answer).message };
    const project = headerText(answer.headers['openai-project']);
    return { valid: true, ...(project ? { identity: project } : {}) };
  }

  /** Deletes the key (a service account's too; the account itself stays, holding no key). */
  async revoke(ref: ProviderKeyRef): Promise<void> {
    const project = this.#project(ref.account);
    try {
      await this.#http.send({
        method: 'DELETE',
        path: `${this.#keysPath(project)}/${encodeURIComponent(ref.providerKeyId)}`,
        headers: this.#auth(),
      });
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return;
      throw error;
    }
  }

  async lastUsed(ref: ProviderKeyRef): Promise<LastUsed> {
    const project = this.#project(ref.account);
    const answer = await this.#http.send({
      method: 'GET',
      path: `${this.#keysPath(project)}/${encodeURIComponent(ref.providerKeyId)}`,
      headers: this.#auth(),
    });
    return { at: seconds(openaiProjectKeySchema.parse(answer.body).last_used_at) ?? null };
  }

  async close(): Promise<void> {
    await this.#http.close();
  }

  /** OpenAI's cursor paging: `limit`, then `after=<last_id>` while `has_more`. */
  async *#pages(path: string): AsyncIterable<Record<string, unknown> & { id: string }> {
    let after: string | undefined;
    for (;;) {
      const answer = await this.#http.send({
        method: 'GET',
        path,
        query: { limit: OPENAI_PAGE_SIZE, after },
        headers: this.#auth(),
      });
      const page = openaiListSchema.parse(answer.body);
      yield* page.data;
      if (!page.has_more || !page.last_id) return;
      after = page.last_id;
    }
  }
}
