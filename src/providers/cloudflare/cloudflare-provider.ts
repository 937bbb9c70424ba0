// The Cloudflare adapter: user API tokens — create (policies from the request), list (paged, `last_used_on`),
// delete, verify (`GET /user/tokens/verify` with the token itself), and rotate, which rolls the value in place with
// `PUT /user/tokens/{id}/value`. Rolling invalidates the old value at once (capabilities().nativeRotateRevokesOld):
// a rotation that must keep consumers working creates and revokes instead. Every answer is Cloudflare's envelope.
import { SecretValue } from '../../secrets/secret-value.js';
import { type HttpAnswer, type ProviderErrorBody, ProviderHttpClient } from '../http/provider-http-client.js';
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
  CLOUDFLARE_CAPABILITIES,
  CLOUDFLARE_DEFAULT_RESOURCES,
  CLOUDFLARE_PAGE_SIZE,
  CLOUDFLARE_PROVIDER_NAME,
  CLOUDFLARE_RATE_LIMIT,
} from './cloudflare-constants.js';
import {
  type CloudflareOptions,
  type CloudflareOptionsInput,
  cloudflareEnvelopeSchema,
  cloudflareOptionsSchema,
  cloudflarePolicySchema,
  cloudflareTokenSchema,
  cloudflareVerifySchema,
} from './cloudflare-schemas.js';

/** Cloudflare codes that mean "slow down" even when the status does not (971: throttled). */
const THROTTLED_CODES = new Set([971, 10429]);

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

export class CloudflareProvider implements Provider {
  readonly name = CLOUDFLARE_PROVIDER_NAME;
  readonly #options: CloudflareOptions;
  readonly #context: ProviderContext;
  readonly #http: ProviderHttpClient;

  constructor(options: CloudflareOptionsInput | CloudflareOptions, context: ProviderContext) {
    this.#options = cloudflareOptionsSchema.parse(options);
    this.#context = context;
    const limit = effectiveRateLimit(CLOUDFLARE_RATE_LIMIT, this.#options.rateLimit);
    this.#http = new ProviderHttpClient(
      {
        provider: this.name,
        baseUrl: this.#options.baseUrl,
        timeoutMs: this.#options.timeoutMs,
        retry: this.#options.retry,
        parseError: parseCloudflareError,
        ...(limit ? { rateLimiter: new TokenBucket(limit) } : {}),
        headers: () => ({ 'user-agent': 'keyledger' }),
        ...(this.#options.token ? { secrets: [this.#options.token] } : {}),
      },
      { ...(context.sleep ? { sleep: context.sleep } : {}), ...(context.random ? { random: context.random } : {}) },
    );
  }

  capabilities(): ProviderCapabilities {
    return structuredClone(CLOUDFLARE_CAPABILITIES);
  }

  rateLimit(): RateLimit {
    return effectiveRateLimit(CLOUDFLARE_RATE_LIMIT, this.#options.rateLimit) ?? CLOUDFLARE_RATE_LIMIT;
  }

  #auth(): Record<string, string> {
    if (!this.#options.token) {
      throw new ProviderError('E_PROVIDER_AUTH', this.name, 'this call needs the `token` option (API Tokens Write)');
    }
    return { authorization: `Bearer ${this.#options.token.reveal()}` };
  }

  /** The envelope's result, or a ProviderError when Cloudflare says `success: false` with a 2xx. */
  #result(answer: HttpAnswer): unknown {
    const envelope = cloudflareEnvelopeSchema.parse(answer.body);
    if (!envelope.success) {
      const error = parseCloudflareError(answer);
      throw new ProviderError(error.code ?? 'E_PROVIDER', this.name, error.message, {
        status: answer.status,
        ...(error.providerCode ? { providerCode: error.providerCode } : {}),
      });
    }
    return envelope.result;
  }

  /**
   * `options.policies` are passed as Cloudflare policies; otherwise the permissions are permission-group ids
   * allowed on `options.resources` (default: the user's accounts).
   */
  async create(request: CreateKeyRequest): Promise<CreatedKey> {
    const policies = this.#policies(request);
    const answer = await this.#http.send({
      method: 'POST',
      path: '/user/tokens',
      headers: this.#auth(),
      json: {
        name: request.name,
        policies,
        ...(request.expiresAt ? { expires_on: request.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
      },
      idempotent: false,
    });
    const token = cloudflareTokenSchema.parse(this.#result(answer));
    if (!token.value) throw new ProviderError('E_PROVIDER', this.name, 'Cloudflare answered without the token value');
    return {
      providerKeyId: token.id,
      account: this.#options.account,
      secret: new SecretValue(token.value),
      createdAt: token.issued_on ? new Date(token.issued_on) : this.#context.clock(),
      ...(token.expires_on ? { expiresAt: new Date(token.expires_on) } : {}),
    };
  }

  async *list(): AsyncIterable<ProviderKey> {
    for (let page = 1; ; page++) {
      const answer = await this.#http.send({
        method: 'GET',
        path: '/user/tokens',
        query: { page, per_page: CLOUDFLARE_PAGE_SIZE },
        headers: this.#auth(),
      });
      const tokens = cloudflareTokenSchema.array().parse(this.#result(answer));
      for (const token of tokens) yield this.#listed(token);
      const info = cloudflareEnvelopeSchema.parse(answer.body).result_info;
      if (!info || info.page >= info.total_pages || tokens.length === 0) break;
    }
  }

  async verify(secret: SecretValue): Promise<VerifyResult> {
    const answer = await this.#http.send({
      method: 'GET',
      path: '/user/tokens/verify',
      headers: { authorization: `Bearer ${secret.reveal()}` },
      accept: [400, 401, 403],
      secrets: [secret],
    });
    if (answer.status !== 200) return { valid: false, reason: parseCloudflareError(answer).message };
    const token = cloudflareVerifySchema.parse(this.#result(answer));
    if (token.status !== 'active')
      return { valid: false, reason: `the token is ${token.status}`, providerKeyId: token.id };
    return { valid: true, providerKeyId: token.id, identity: this.#options.account };
  }

  async revoke(ref: ProviderKeyRef): Promise<void> {
    try {
      await this.#http.send({
        method: 'DELETE',
        path: `/user/tokens/${encodeURIComponent(ref.providerKeyId)}`,
        headers: this.#auth(),
      });
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return;
      throw error;
    }
  }

  async lastUsed(ref: ProviderKeyRef): Promise<LastUsed> {
    const answer = await this.#http.send({
      method: 'GET',
      path: `/user/tokens/${encodeURIComponent(ref.providerKeyId)}`,
      headers: this.#auth(),
    });
    const token = cloudflareTokenSchema.parse(this.#result(answer));
    return { at: token.last_used_on ? new Date(token.last_used_on) : null };
  }

  /**
   * Rolls the token's value: same id, name and policies, a new secret — and the old secret stops working now.
   * Retrying a roll whose answer was lost would roll again and lose that value too, so it is not idempotent.
   */
  async rotate(ref: ProviderKeyRef): Promise<CreatedKey> {
    const answer = await this.#http.send({
      method: 'PUT',
      path: `/user/tokens/${encodeURIComponent(ref.providerKeyId)}/value`,
      headers: this.#auth(),
      json: {},
      idempotent: false,
    });
    const value = this.#result(answer);
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

  async close(): Promise<void> {
    await this.#http.close();
  }

  #policies(request: CreateKeyRequest): unknown[] {
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
      return parsed.data;
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
