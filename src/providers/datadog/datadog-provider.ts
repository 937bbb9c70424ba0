// The Datadog adapter, on the official SDK (@datadog/datadog-api-client): API keys (v2 KeyManagementApi
// createAPIKey / listAPIKeys / deleteAPIKey) and application keys (createCurrentUserApplicationKey for the adapter's
// own user, listApplicationKeys / getApplicationKey / deleteApplicationKey org-wide). Verify is v1
// AuthenticationApi.validate for an API key, under a configuration holding only that key, and an authenticated
// listCurrentUserApplicationKeys for an application key (Datadog has no validate for those); last used is
// `last_used_at` for application keys and the newest v2 AuditApi.listAuditLogs event naming `@metadata.api_key.id`
// for API keys. The SDK's retries are off (ours apply through SdkCaller); its HTTP library is wrapped to give every
// attempt a timeout and to keep the error answer's headers, which ApiException drops (X-RateLimit-Reset on 429).
import { AsyncLocalStorage } from 'node:async_hooks';
import { client, v1, v2 } from '@datadog/datadog-api-client';
import { ProviderError } from '../../errors/provider-error.js';
import { redactSecrets } from '../../runtime/secret-redaction.js';
import { SecretValue } from '../../secrets/secret-value.js';
import { type HttpAnswer, headerText, type ProviderErrorBody } from '../http/provider-http-client.js';
import { type SdkCaller, sdkAnswer, transportErrorOfChain } from '../http/sdk-caller.js';
import type { CreatedKey, CreateKeyRequest, LastUsed, ProviderKey, ProviderKeyRef, VerifyResult } from '../provider.js';
import { ProviderAdapter } from '../provider-adapter.js';
import type { ProviderContext } from '../provider-context.js';
import {
  DATADOG_AUDIT_LOOKBACK_DAYS,
  DATADOG_PAGE_SIZE,
  DATADOG_PROVIDER_NAME,
  type DatadogKeyKind,
} from './datadog-constants.js';
import {
  type DatadogOptions,
  type DatadogOptionsInput,
  datadogAuditAttributesSchema,
  datadogErrorSchema,
  datadogOptionsSchema,
} from './datadog-schemas.js';
import { datadogProviderRegistration } from './index.js';

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

/** Where the HTTP library leaves the error answer of the SDK call running in the current async context. */
const answerSlot = new AsyncLocalStorage<{ answer?: HttpAnswer }>();
/** The whole answer behind each ApiException thrown by a call made through `withAnswer`. */
const answersOfErrors = new WeakMap<object, HttpAnswer>();

/**
 * The SDK's own HTTP library (cross-fetch), with two additions: each attempt gets its own timeout (the SDK's
 * `httpConfig` has only a fixed `signal`), and an error answer is kept whole — status, headers and raw body —
 * because `ApiException` carries only the status and the parsed body, and Datadog's 429 says when to return in the
 * `X-RateLimit-Reset` header.
 */
class DatadogHttpLibrary extends client.IsomorphicFetchHttpLibrary {
  readonly #timeoutMs: number;

  constructor(timeoutMs: number) {
    super();
    this.#timeoutMs = timeoutMs;
  }

  override async send(request: client.RequestContext): Promise<client.ResponseContext> {
    // The signal also bounds reading the body, which the SDK does after `send` returns.
    request.setHttpConfig({ ...request.getHttpConfig(), signal: AbortSignal.timeout(this.#timeoutMs) });
    const response = await super.send(request);
    if (response.httpStatusCode >= 200 && response.httpStatusCode < 300) return response;
    const text = await response.body.text();
    const slot = answerSlot.getStore();
    if (slot) slot.answer = sdkAnswer(response.httpStatusCode, response.headers, text);
    return new client.ResponseContext(
      response.httpStatusCode,
      response.headers,
      new client.SelfDecodingBody(Promise.resolve(Buffer.from(text))),
    );
  }
}

/** Runs one SDK call, and ties the answer the HTTP library saw to the ApiException it ends in. */
async function withAnswer<T>(sdk: () => Promise<T>): Promise<T> {
  const slot: { answer?: HttpAnswer } = {};
  try {
    return await answerSlot.run(slot, sdk);
  } catch (error) {
    if (error instanceof client.ApiException && slot.answer) answersOfErrors.set(error, slot.answer);
    throw error;
  }
}

/** The answer inside what the SDK threw: the one kept by `withAnswer`, else the ApiException's status and body. */
export function datadogAnswerOf(error: unknown): HttpAnswer | undefined {
  if (!(error instanceof client.ApiException)) return undefined;
  return answersOfErrors.get(error) ?? sdkAnswer(error.code, undefined, error.body);
}

/**
 * A failure without an answer: the fetch's socket error or timeout (node-fetch's `FetchError`, `AbortError`), or —
 * anything else — the SDK failing to read a 2xx answer, whose text may quote that answer and is not kept.
 */
function datadogTransportError(error: unknown): ProviderError {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  if (name === 'FetchError' || name === 'AbortError' || name === 'TimeoutError' || typeof code === 'string') {
    return transportErrorOfChain(DATADOG_PROVIDER_NAME, error);
  }
  return new ProviderError('E_PROVIDER', DATADOG_PROVIDER_NAME, 'the Datadog SDK could not read the answer', {
    providerCode: typeof name === 'string' ? name : 'SDK',
    retryable: false,
  });
}

function kindOfSecret(secret: SecretValue): DatadogKeyKind {
  return /^[0-9a-f]{40}$/.test(secret.reveal()) ? 'application-key' : 'api-key';
}

/** What the adapter reads of an API key or an application key, whichever SDK model it came in. */
interface DatadogKeyView {
  id?: string;
  attributes?: { name?: string; createdAt?: string | Date; lastUsedAt?: string | Date; scopes?: string[] };
  relationships?: {
    createdBy?: { data?: { id?: string } };
    ownedBy?: { data?: { id?: string } };
    additionalProperties?: Record<string, unknown>;
  };
}

/** The owner of an application key (`owned_by`), else its creator (`created_by`, the only one API keys have). */
function ownerOf(key: DatadogKeyView): string | undefined {
  const relationships = key.relationships;
  const untyped = relationships?.additionalProperties?.created_by as { data?: { id?: unknown } } | undefined;
  const untypedId = typeof untyped?.data?.id === 'string' ? untyped.data.id : undefined;
  return relationships?.ownedBy?.data?.id ?? relationships?.createdBy?.data?.id ?? untypedId;
}

/** A plain Date (the SDK hands out its own subclass carrying the original text). */
function dateOf(value: string | Date | null | undefined): Date | undefined {
  if (value === null || value === undefined) return undefined;
  return new Date(value instanceof Date ? value.getTime() : value);
}

export class DatadogProvider extends ProviderAdapter {
  readonly #options: DatadogOptions;
  readonly #context: ProviderContext;
  readonly #http: DatadogHttpLibrary;
  readonly #caller: SdkCaller;
  /** The SDK clients on the adapter's own keys; built on first use, since verify() needs neither key. */
  #management: { keys: v2.KeyManagementApi; audit: v2.AuditApi } | undefined;
  /** Kinds of the keys this adapter has created or listed, so a ref (a bare UUID) is addressed without probing. */
  readonly #kinds = new Map<string, DatadogKeyKind>();

  constructor(options: DatadogOptionsInput | DatadogOptions, context: ProviderContext) {
    const parsed = datadogOptionsSchema.parse(options);
    super(datadogProviderRegistration, parsed, context);
    this.#options = parsed;
    this.#context = context;
    this.#http = new DatadogHttpLibrary(this.#options.timeoutMs);
    this.#caller = this.sdkCaller({
      answerOf: datadogAnswerOf,
      parseError: parseDatadogError,
      transportErrorOf: datadogTransportError,
      secrets: [this.#options.apiKey, this.#options.applicationKey],
    });
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
    const { keys } = this.#api();
    const created =
      kind === 'application-key'
        ? await this.#call(false, () =>
            keys.createCurrentUserApplicationKey({
              body: {
                data: {
                  type: 'application_keys',
                  attributes: {
                    name: request.name,
                    ...(request.permissions?.length ? { scopes: request.permissions } : {}),
                  },
                },
              },
            }),
          )
        : await this.#call(false, () =>
            keys.createAPIKey({ body: { data: { type: 'api_keys', attributes: { name: request.name } } } }),
          );
    const key = created.data;
    if (!key?.id || !key.attributes?.key) {
      throw new ProviderError('E_PROVIDER', this.name, 'Datadog answered without the new key');
    }
    this.#kinds.set(key.id, kind);
    return {
      providerKeyId: key.id,
      account: this.#options.org,
      secret: new SecretValue(key.attributes.key),
      createdAt: dateOf(key.attributes.createdAt) ?? this.#context.clock(),
    };
  }

  /** Every API key of the organisation, then every application key; the account is the organisation's name. */
  async *list(): AsyncIterable<ProviderKey> {
    const { keys } = this.#api();
    for (const kind of ['api-key', 'application-key'] as const) {
      for (let pageNumber = 0; ; pageNumber++) {
        const page = { pageSize: DATADOG_PAGE_SIZE, pageNumber };
        const answer =
          kind === 'api-key'
            ? await this.#call(true, () => keys.listAPIKeys(page))
            : await this.#call(true, () => keys.listApplicationKeys(page));
        const listed: DatadogKeyView[] = answer.data ?? [];
        for (const key of listed) {
          if (!key.id) continue;
          this.#kinds.set(key.id, kind);
          yield this.#listed(key as DatadogKeyView & { id: string });
        }
        if (listed.length < DATADOG_PAGE_SIZE) break;
      }
    }
  }

  async verify(secret: SecretValue): Promise<VerifyResult> {
    if (kindOfSecret(secret) === 'api-key') {
      // A configuration holding only the key under test: validate sends nothing else.
      const authentication = new v1.AuthenticationApi(this.#configuration(secret, undefined));
      const outcome = await this.#verifyCall(secret, () => authentication.validate());
      if ('refused' in outcome) return { valid: false, reason: this.#reason(outcome.refused, secret) };
      return { valid: true, identity: this.#options.org };
    }
    // An application key only works beside an API key; listing its own user's keys proves it and names it.
    const keys = new v2.KeyManagementApi(this.#configuration(this.#adapterApiKey(), secret));
    const outcome = await this.#verifyCall(secret, () =>
      keys.listCurrentUserApplicationKeys({ pageSize: DATADOG_PAGE_SIZE }),
    );
    if ('refused' in outcome) return { valid: false, reason: this.#reason(outcome.refused, secret) };
    const last4 = secret.reveal().slice(-4);
    const own: DatadogKeyView | undefined = outcome.answer.data?.find((key) => key.attributes?.last4 === last4);
    const owner = own ? ownerOf(own) : undefined;
    return {
      valid: true,
      ...(owner ? { identity: `user:${owner}` } : {}),
      ...(own?.id ? { providerKeyId: own.id } : {}),
    };
  }

  async revoke(ref: ProviderKeyRef): Promise<void> {
    const { keys } = this.#api();
    const id = ref.providerKeyId;
    for (const kind of this.#candidateKinds(ref)) {
      try {
        if (kind === 'api-key') await this.#call(true, () => keys.deleteAPIKey({ apiKeyId: id }));
        else await this.#call(true, () => keys.deleteApplicationKey({ appKeyId: id }));
        this.#kinds.delete(id);
        return;
      } catch (error) {
        if (!(error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND')) throw error;
      }
    }
    // Not found as either kind: already deleted.
  }

  async lastUsed(ref: ProviderKeyRef): Promise<LastUsed> {
    const { keys, audit } = this.#api();
    const kind = await this.#kindOf(ref);
    if (kind === 'application-key') {
      const answer = await this.#call(true, () => keys.getApplicationKey({ appKeyId: ref.providerKeyId }));
      return { at: dateOf(answer.data?.attributes?.lastUsedAt) ?? null };
    }
    const from = new Date(this.#context.clock().getTime() - DATADOG_AUDIT_LOOKBACK_DAYS * 86_400_000);
    const answer = await this.#call(true, () =>
      audit.listAuditLogs({
        filterQuery: `@metadata.api_key.id:${ref.providerKeyId}`,
        filterFrom: from,
        sort: '-timestamp',
        pageLimit: 1,
      }),
    );
    const newest = answer.data?.[0]?.attributes;
    const at = dateOf(newest?.timestamp);
    if (!at) return { at: null };
    const attributes = datadogAuditAttributesSchema.safeParse(newest?.attributes ?? {});
    const ip = attributes.success ? attributes.data.network?.client?.ip : undefined;
    return { at, ...(ip ? { sourceIp: ip } : {}) };
  }

  /** Nothing to release: the SDK's fetch holds no client of its own (it uses Node's global agent). */
  async close(): Promise<void> {}

  /** One SDK call: paced, retried by our policy, its failure mapped through parseDatadogError. */
  #call<T>(idempotent: boolean, sdk: () => Promise<T>): Promise<T> {
    return this.#caller.call({ idempotent }, () => withAnswer(sdk));
  }

  /** A verify call: a 401/403 is the key's refusal, returned; anything else failing is an error, as for any call. */
  #verifyCall<T>(secret: SecretValue, sdk: () => Promise<T>): Promise<{ answer: T } | { refused: HttpAnswer }> {
    return this.#caller.call({ idempotent: true, secrets: [secret] }, async () => {
      try {
        return { answer: await withAnswer(sdk) };
      } catch (error) {
        const answer = datadogAnswerOf(error);
        if (answer && (answer.status === 401 || answer.status === 403)) return { refused: answer };
        throw error;
      }
    });
  }

  #reason(answer: HttpAnswer, secret: SecretValue): string {
    return redactSecrets(parseDatadogError(answer).message, [
      secret,
      this.#options.apiKey,
      this.#options.applicationKey,
    ]);
  }

  /** A configuration of the SDK on our base URL, HTTP library and exactly these keys. */
  #configuration(apiKey: SecretValue, applicationKey: SecretValue | undefined): client.Configuration {
    return client.createConfiguration({
      baseServer: new client.BaseServerConfiguration(this.#options.baseUrl.replace(/\/+$/, ''), {}),
      // Both named, so that DD_API_KEY / DD_APP_KEY in the environment never fill in a missing one.
      authMethods: { apiKeyAuth: apiKey.reveal(), appKeyAuth: applicationKey?.reveal() },
      httpApi: this.#http,
      enableRetry: false,
    });
  }

  #adapterApiKey(): SecretValue {
    if (!this.#options.apiKey) {
      throw new ProviderError(
        'E_PROVIDER_AUTH',
        this.name,
        'this call needs the `apiKey` option (an API key of the organisation)',
      );
    }
    return this.#options.apiKey;
  }

  /** The management clients, on both keys Datadog's management calls need (verifying an API key needs neither). */
  #api(): { keys: v2.KeyManagementApi; audit: v2.AuditApi } {
    if (this.#management) return this.#management;
    const apiKey = this.#adapterApiKey();
    if (!this.#options.applicationKey) {
      throw new ProviderError(
        'E_PROVIDER_AUTH',
        this.name,
        'this call needs the `applicationKey` option (an application key)',
      );
    }
    const configuration = this.#configuration(apiKey, this.#options.applicationKey);
    this.#management = { keys: new v2.KeyManagementApi(configuration), audit: new v2.AuditApi(configuration) };
    return this.#management;
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
    const { keys } = this.#api();
    try {
      await this.#call(true, () => keys.getApplicationKey({ appKeyId: ref.providerKeyId }));
      this.#kinds.set(ref.providerKeyId, 'application-key');
      return 'application-key';
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return 'api-key';
      throw error;
    }
  }

  #listed(key: DatadogKeyView & { id: string }): ProviderKey {
    const createdBy = ownerOf(key);
    const attributes = key.attributes ?? {};
    const createdAt = dateOf(attributes.createdAt);
    const lastUsedAt = dateOf(attributes.lastUsedAt);
    return {
      providerKeyId: key.id,
      account: this.#options.org,
      status: 'active',
      ...(attributes.name ? { name: attributes.name } : {}),
      ...(createdAt ? { createdAt } : {}),
      ...(lastUsedAt ? { lastUsedAt } : {}),
      ...(createdBy ? { createdBy: `user:${createdBy}` } : {}),
      ...(attributes.scopes ? { permissions: attributes.scopes } : {}),
    };
  }
}
