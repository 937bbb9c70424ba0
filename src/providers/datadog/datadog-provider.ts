// The Datadog adapter: API keys (`/api/v2/api_keys`) and application keys (created for the adapter's own user at
// `/api/v2/current_user/application_keys`, listed and deleted org-wide at `/api/v2/application_keys`). Verify is
// `GET /api/v1/validate` for an API key and an authenticated call for an application key (Datadog has no validate
// for those); last used is `last_used_at` for application keys and the newest Audit Trail event naming
// `@metadata.api_key.id` for API keys, whose objects carry no such field.
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
  DATADOG_AUDIT_LOOKBACK,
  DATADOG_CAPABILITIES,
  DATADOG_PAGE_SIZE,
  DATADOG_PROVIDER_NAME,
  DATADOG_RATE_LIMIT,
  type DatadogKeyKind,
} from './datadog-constants.js';
import {
  type DatadogKey,
  type DatadogOptions,
  type DatadogOptionsInput,
  datadogAuditEventsSchema,
  datadogErrorSchema,
  datadogKeyDocumentSchema,
  datadogKeyListSchema,
  datadogOptionsSchema,
} from './datadog-schemas.js';

const COLLECTION: Record<DatadogKeyKind, string> = {
  'api-key': '/api/v2/api_keys',
  'application-key': '/api/v2/application_keys',
};

/** Datadog answers `{"errors": ["Forbidden"]}`; on 429 it says when to return in `X-RateLimit-Reset` (seconds). */
export function parseDatadogError(answer: HttpAnswer): ProviderErrorBody {
  const parsed = datadogErrorSchema.safeParse(answer.body);
  const message = parsed.success
    ? parsed.data.errors
        .map((error) => (typeof error === 'string' ? error : (error.detail ?? error.title ?? '')))
        .join('; ')
    : answer.text.trim();
  const reset = Number(headerText(answer.headers['x-ratelimit-reset']));
  return {
    message: message || `HTTP ${answer.status}`,
    ...(answer.status === 429 && Number.isFinite(reset) ? { retryAfterSeconds: reset } : {}),
  };
}

function kindOfSecret(secret: SecretValue): DatadogKeyKind {
  return /^[0-9a-f]{40}$/.test(secret.reveal()) ? 'application-key' : 'api-key';
}

export class DatadogProvider implements Provider {
  readonly name = DATADOG_PROVIDER_NAME;
  readonly #options: DatadogOptions;
  readonly #context: ProviderContext;
  readonly #http: ProviderHttpClient;
  /** Kinds of the keys this adapter has created or listed, so a ref (a bare UUID) is addressed without probing. */
  readonly #kinds = new Map<string, DatadogKeyKind>();

  constructor(options: DatadogOptionsInput | DatadogOptions, context: ProviderContext) {
    this.#options = datadogOptionsSchema.parse(options);
    this.#context = context;
    const limit = effectiveRateLimit(DATADOG_RATE_LIMIT, this.#options.rateLimit);
    this.#http = new ProviderHttpClient(
      {
        provider: this.name,
        baseUrl: this.#options.baseUrl,
        timeoutMs: this.#options.timeoutMs,
        retry: this.#options.retry,
        parseError: parseDatadogError,
        ...(limit ? { rateLimiter: new TokenBucket(limit) } : {}),
        headers: () => ({ 'user-agent': 'keyledger' }),
        secrets: [this.#options.apiKey, this.#options.applicationKey].filter((s): s is SecretValue => s !== undefined),
      },
      { ...(context.sleep ? { sleep: context.sleep } : {}), ...(context.random ? { random: context.random } : {}) },
    );
  }

  capabilities(): ProviderCapabilities {
    return structuredClone(DATADOG_CAPABILITIES);
  }

  rateLimit(): RateLimit {
    return effectiveRateLimit(DATADOG_RATE_LIMIT, this.#options.rateLimit) ?? DATADOG_RATE_LIMIT;
  }

  /** Both keys Datadog's management calls need; verifying an API key needs neither (a scanner has none). */
  #auth(applicationKey: SecretValue | undefined = this.#options.applicationKey): Record<string, string> {
    if (!this.#options.apiKey) {
      throw new ProviderError(
        'E_PROVIDER_AUTH',
        this.name,
        'this call needs the `apiKey` option (an API key of the organisation)',
      );
    }
    if (!applicationKey) {
      throw new ProviderError(
        'E_PROVIDER_AUTH',
        this.name,
        'this call needs the `applicationKey` option (an application key)',
      );
    }
    return { 'dd-api-key': this.#options.apiKey.reveal(), 'dd-application-key': applicationKey.reveal() };
  }

  /** `options.kind` (`api-key` or `application-key`) chooses; permissions ask for a scoped application key. */
  async create(request: CreateKeyRequest): Promise<CreatedKey> {
    const requested = request.options?.kind;
    if (requested !== undefined && requested !== 'api-key' && requested !== 'application-key') {
      throw new ProviderError(
        'E_PROVIDER_INVALID_REQUEST',
        this.name,
        'options.kind must be api-key or application-key',
      );
    }
    const kind: DatadogKeyKind = requested ?? 'api-key';
    const application = kind === 'application-key';
    const answer = await this.#http.send({
      method: 'POST',
      path: application ? '/api/v2/current_user/application_keys' : '/api/v2/api_keys',
      headers: this.#auth(),
      json: {
        data: {
          type: application ? 'application_keys' : 'api_keys',
          attributes: {
            name: request.name,
            ...(application && request.permissions?.length ? { scopes: request.permissions } : {}),
          },
        },
      },
      idempotent: false,
    });
    const key = datadogKeyDocumentSchema.parse(answer.body).data;
    if (!key.attributes.key) throw new ProviderError('E_PROVIDER', this.name, 'Datadog answered without the new key');
    this.#kinds.set(key.id, kind);
    return {
      providerKeyId: key.id,
      account: this.#options.org,
      secret: new SecretValue(key.attributes.key),
      createdAt: key.attributes.created_at ? new Date(key.attributes.created_at) : this.#context.clock(),
    };
  }

  /** Every API key of the organisation, then every application key; the account is the organisation's name. */
  async *list(): AsyncIterable<ProviderKey> {
    for (const kind of ['api-key', 'application-key'] as const) {
      for (let page = 0; ; page++) {
        const answer = await this.#http.send({
          method: 'GET',
          path: COLLECTION[kind],
          query: { 'page[size]': DATADOG_PAGE_SIZE, 'page[number]': page },
          headers: this.#auth(),
        });
        const keys = datadogKeyListSchema.parse(answer.body).data;
        for (const key of keys) {
          this.#kinds.set(key.id, kind);
          yield this.#listed(key);
        }
        if (keys.length < DATADOG_PAGE_SIZE) break;
      }
    }
  }

  async verify(secret: SecretValue): Promise<VerifyResult> {
    if (kindOfSecret(secret) === 'api-key') {
      const answer = await this.#http.send({
        method: 'GET',
        path: '/api/v1/validate',
        headers: { 'dd-api-key': secret.reveal() },
        accept: [401, 403],
        secrets: [secret],
      });
      if (answer.status !== 200) return { valid: false, reason: parseDatadogError(answer).message };
      return { valid: true, identity: this.#options.org };
    }
    // An application key only works beside an API key; listing its own user's keys proves it and names it.
    const answer = await this.#http.send({
      method: 'GET',
      path: '/api/v2/current_user/application_keys',
      query: { 'page[size]': DATADOG_PAGE_SIZE },
      headers: this.#auth(secret),
      accept: [401, 403],
      secrets: [secret],
    });
    if (answer.status !== 200) return { valid: false, reason: parseDatadogError(answer).message };
    const last4 = secret.reveal().slice(-4);
    const own = datadogKeyListSchema.parse(answer.body).data.find((key) => key.attributes.last4 === last4);
    const owner = own?.relationships?.owned_by?.data?.id ?? own?.relationships?.created_by?.data?.id;
    return { valid: true, ...(owner ? { identity: `user:${owner}` } : {}), ...(own ? { providerKeyId: own.id } : {}) };
  }

  async revoke(ref: ProviderKeyRef): Promise<void> {
    for (const kind of this.#candidateKinds(ref)) {
      try {
        await this.#http.send({
          method: 'DELETE',
          path: `${COLLECTION[kind]}/${encodeURIComponent(ref.providerKeyId)}`,
          headers: this.#auth(),
        });
        this.#kinds.delete(ref.providerKeyId);
        return;
      } catch (error) {
        if (!(error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND')) throw error;
      }
    }
    // Not found as either kind: already deleted.
  }

  async lastUsed(ref: ProviderKeyRef): Promise<LastUsed> {
    const kind = await this.#kindOf(ref);
    if (kind === 'application-key') {
      const answer = await this.#http.send({
        method: 'GET',
        path: `${COLLECTION[kind]}/${encodeURIComponent(ref.providerKeyId)}`,
        headers: this.#auth(),
      });
      const key = datadogKeyDocumentSchema.parse(answer.body).data;
      return { at: key.attributes.last_used_at ? new Date(key.attributes.last_used_at) : null };
    }
    const answer = await this.#http.send({
      method: 'GET',
      path: '/api/v2/audit/events',
      query: {
        'filter[query]': `@metadata.api_key.id:${ref.providerKeyId}`,
        'filter[from]': DATADOG_AUDIT_LOOKBACK,
        sort: '-timestamp',
        'page[limit]': 1,
      },
      headers: this.#auth(),
    });
    const newest = datadogAuditEventsSchema.parse(answer.body).data[0];
    if (!newest) return { at: null };
    const ip = newest.attributes.attributes?.network?.client?.ip;
    return { at: new Date(newest.attributes.timestamp), ...(ip ? { sourceIp: ip } : {}) };
  }

  async close(): Promise<void> {
    await this.#http.close();
  }

  #candidateKinds(ref: ProviderKeyRef): DatadogKeyKind[] {
    const known = this.#kinds.get(ref.providerKeyId);
    if (known) return [known, known === 'api-key' ? 'application-key' : 'api-key'];
    return ['api-key', 'application-key'];
  }

  /** A ref is a bare UUID: the kind is remembered from create/list, else found by asking for an application key. */
  async #kindOf(ref: ProviderKeyRef): Promise<DatadogKeyKind> {
    const known = this.#kinds.get(ref.providerKeyId);
    if (known) return known;
    try {
      await this.#http.send({
        method: 'GET',
        path: `${COLLECTION['application-key']}/${encodeURIComponent(ref.providerKeyId)}`,
        headers: this.#auth(),
      });
      this.#kinds.set(ref.providerKeyId, 'application-key');
      return 'application-key';
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return 'api-key';
      throw error;
    }
  }

  #listed(key: DatadogKey): ProviderKey {
    const createdBy = key.relationships?.owned_by?.data?.id ?? key.relationships?.created_by?.data?.id;
    return {
      providerKeyId: key.id,
      account: this.#options.org,
      status: 'active',
      ...(key.attributes.name ? { name: key.attributes.name } : {}),
      ...(key.attributes.created_at ? { createdAt: new Date(key.attributes.created_at) } : {}),
      ...(key.attributes.last_used_at ? { lastUsedAt: new Date(key.attributes.last_used_at) } : {}),
      ...(createdBy ? { createdBy: `user:${createdBy}` } : {}),
      ...(key.attributes.scopes ? { permissions: key.attributes.scopes } : {}),
    };
  }
}
