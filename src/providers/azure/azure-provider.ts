// The Entra ID adapter: application passwords (client secrets) through Microsoft Graph — add (`addPassword`: the
// secret text is returned once, with `endDateTime`), list (`passwordCredentials` of the application), remove
// (`removePassword`) — verify by a client-credentials token request with the password, and last use from the
// service-principal sign-in logs (`servicePrincipalCredentialKeyId`). The account is the application's appId.
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
  AZURE_CAPABILITIES,
  AZURE_GRAPH_SCOPE,
  AZURE_PAGE_SIZE,
  AZURE_PROVIDER_NAME,
  AZURE_RATE_LIMIT,
} from './azure-constants.js';
import {
  type AzureOptions,
  type AzureOptionsInput,
  azureAadErrorSchema,
  azureApplicationPageSchema,
  azureApplicationSchema,
  azureGraphErrorSchema,
  azureOptionsSchema,
  azurePasswordCredentialSchema,
  azureSignInPageSchema,
  azureTokenSchema,
} from './azure-schemas.js';

/** Graph's `{error: {code, message}}`, or the identity platform's `{error, error_description, error_codes}`. */
export function parseAzureError(answer: HttpAnswer): ProviderErrorBody {
  const graph = azureGraphErrorSchema.safeParse(answer.body);
  if (graph.success) {
    const { code, message } = graph.data.error;
    return {
      message: message ?? code ?? `HTTP ${answer.status}`,
      ...(code ? { providerCode: code } : {}),
      ...(code === 'TooManyRequests' || code === 'activityLimitReached'
        ? { code: 'E_PROVIDER_RATE_LIMITED' as const }
        : {}),
    };
  }
  const aad = azureAadErrorSchema.safeParse(answer.body);
  if (aad.success) {
    // The description repeats trace and correlation ids; the first sentence says what is wrong.
    const description = aad.data.error_description?.split(/\s+Trace ID:/)[0]?.trim();
    const aadsts = aad.data.error_codes?.[0];
    return {
      message: description ?? aad.data.error,
      providerCode: aadsts !== undefined ? `AADSTS${aadsts}` : aad.data.error,
      ...(aad.data.error === 'invalid_client' || aad.data.error === 'unauthorized_client'
        ? { code: 'E_PROVIDER_AUTH' as const }
        : {}),
    };
  }
  return { message: answer.text.trim() || `HTTP ${answer.status}` };
}

export class AzureProvider implements Provider {
  readonly name = AZURE_PROVIDER_NAME;
  readonly #options: AzureOptions;
  readonly #context: ProviderContext;
  readonly #graph: ProviderHttpClient;
  readonly #login: ProviderHttpClient;
  #accessToken: { value: SecretValue; expiresAt: number } | undefined;

  constructor(options: AzureOptionsInput | AzureOptions, context: ProviderContext) {
    this.#options = azureOptionsSchema.parse(options);
    this.#context = context;
    const limit = effectiveRateLimit(AZURE_RATE_LIMIT, this.#options.rateLimit);
    const retryContext = {
      ...(context.sleep ? { sleep: context.sleep } : {}),
      ...(context.random ? { random: context.random } : {}),
    };
    const client = (baseUrl: string, rateLimiter?: TokenBucket) =>
      new ProviderHttpClient(
        {
          provider: this.name,
          baseUrl,
          timeoutMs: this.#options.timeoutMs,
          retry: this.#options.retry,
          parseError: parseAzureError,
          ...(rateLimiter ? { rateLimiter } : {}),
          headers: () => ({ 'user-agent': 'keyledger' }),
          ...(this.#options.clientSecret ? { secrets: [this.#options.clientSecret] } : {}),
        },
        retryContext,
      );
    this.#graph = client(this.#options.baseUrl, limit ? new TokenBucket(limit) : undefined);
    this.#login = client(this.#options.loginUrl);
  }

  capabilities(): ProviderCapabilities {
    return structuredClone(AZURE_CAPABILITIES);
  }

  rateLimit(): RateLimit {
    return effectiveRateLimit(AZURE_RATE_LIMIT, this.#options.rateLimit) ?? AZURE_RATE_LIMIT;
  }

  /** `options.displayName` overrides the request's name; `expiresAt` becomes `endDateTime` (Graph's default: 2 years). */
  async create(request: CreateKeyRequest): Promise<CreatedKey> {
    const appId = this.#appId(request.account);
    const auth = await this.#auth();
    const answer = await this.#graph.send({
      method: 'POST',
      path: `${this.#application(appId)}/addPassword`,
      headers: auth.headers,
      json: {
        passwordCredential: {
          displayName: typeof request.options?.displayName === 'string' ? request.options.displayName : request.name,
          ...(request.expiresAt ? { endDateTime: request.expiresAt.toISOString() } : {}),
        },
      },
      idempotent: false,
      secrets: auth.secrets,
    });
    const password = azurePasswordCredentialSchema.parse(answer.body);
    if (!password.secretText)
      throw new ProviderError('E_PROVIDER', this.name, 'Graph answered without the secret text');
    return {
      providerKeyId: password.keyId,
      account: appId,
      secret: new SecretValue(password.secretText),
      createdAt: password.startDateTime ? new Date(password.startDateTime) : this.#context.clock(),
      ...(password.endDateTime ? { expiresAt: new Date(password.endDateTime) } : {}),
    };
  }

  /** One application's passwords, or every application's (`GET /applications`, paged by `@odata.nextLink`). */
  async *list(options: { account?: string } = {}): AsyncIterable<ProviderKey> {
    const now = this.#context.clock();
    if (options.account !== undefined) {
      const auth = await this.#auth();
      const answer = await this.#graph.send({
        method: 'GET',
        path: this.#application(this.#appId(options.account)),
        headers: auth.headers,
        secrets: auth.secrets,
      });
      yield* this.#passwords(azureApplicationSchema.parse(answer.body), now);
      return;
    }
    let path: string | undefined =
      `/v1.0/applications?$select=id,appId,displayName,passwordCredentials&$top=${AZURE_PAGE_SIZE}`;
    while (path) {
      const auth = await this.#auth();
      const answer: HttpAnswer = await this.#graph.send({
        method: 'GET',
        path,
        headers: auth.headers,
        secrets: auth.secrets,
      });
      const page = azureApplicationPageSchema.parse(answer.body);
      for (const app of page.value) yield* this.#passwords(app, now);
      const next = page['@odata.nextLink'];
      path = next ? `${new URL(next).pathname}${new URL(next).search}` : undefined;
    }
  }

  /** A client-credentials token request with the password as client_secret of its application (ref.account). */
  async verify(secret: SecretValue, ref?: ProviderKeyRef): Promise<VerifyResult> {
    if (!ref?.account) {
      throw new ProviderError(
        'E_PROVIDER_INVALID_REQUEST',
        this.name,
        "an application password verifies with its application's appId: pass the ref",
      );
    }
    const answer = await this.#login.send({
      method: 'POST',
      path: this.#tokenPath(),
      form: {
        client_id: ref.account,
        client_secret: secret.reveal(),
        scope: AZURE_GRAPH_SCOPE,
        grant_type: 'client_credentials',
      },
      accept: [400, 401],
      // A repeated token request has no effect beyond a second token.
      idempotent: true,
      secrets: [secret],
    });
    // The description starts with the AADSTS code ("AADSTS7000215: Invalid client secret provided...").
    if (answer.status !== 200) return { valid: false, reason: parseAzureError(answer).message };
    azureTokenSchema.parse(answer.body);
    return { valid: true, identity: ref.account };
  }

  /** Removes the password; one the application no longer holds is already revoked. */
  async revoke(ref: ProviderKeyRef): Promise<void> {
    const appId = this.#appId(ref.account);
    let auth = await this.#auth();
    let answer: HttpAnswer;
    try {
      answer = await this.#graph.send({
        method: 'GET',
        path: this.#application(appId),
        headers: auth.headers,
        secrets: auth.secrets,
      });
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return;
      throw error;
    }
    const held = azureApplicationSchema
      .parse(answer.body)
      .passwordCredentials.some((p) => p.keyId === ref.providerKeyId);
    if (!held) return;
    auth = await this.#auth();
    await this.#graph.send({
      method: 'POST',
      path: `${this.#application(appId)}/removePassword`,
      headers: auth.headers,
      json: { keyId: ref.providerKeyId },
      // Removing twice changes nothing more, so a lost answer may be retried.
      idempotent: true,
      secrets: auth.secrets,
    });
  }

  async lastUsed(ref: ProviderKeyRef): Promise<LastUsed> {
    const auth = await this.#auth();
    const filter = `signInEventTypes/any(t: t eq 'servicePrincipal') and servicePrincipalCredentialKeyId eq '${ref.providerKeyId.replace(/'/g, "''")}'`;
    const answer = await this.#graph.send({
      method: 'GET',
      path: '/beta/auditLogs/signIns',
      query: { $filter: filter, $top: 1 },
      headers: auth.headers,
      secrets: auth.secrets,
    });
    const newest = azureSignInPageSchema.parse(answer.body).value[0];
    if (!newest) return { at: null };
    return { at: new Date(newest.createdDateTime), ...(newest.ipAddress ? { sourceIp: newest.ipAddress } : {}) };
  }

  async close(): Promise<void> {
    await Promise.all([this.#graph.close(), this.#login.close()]);
  }

  #appId(account: string | undefined): string {
    if (!account) {
      throw new ProviderError(
        'E_PROVIDER_INVALID_REQUEST',
        this.name,
        "account must be the application's appId (client id)",
      );
    }
    return account;
  }

  #application(appId: string): string {
    return `/v1.0/applications(appId='${encodeURIComponent(appId.replace(/'/g, "''"))}')`;
  }

  #tokenPath(): string {
    if (!this.#options.tenantId) {
      throw new ProviderError(
        'E_PROVIDER_INVALID_REQUEST',
        this.name,
        'the `tenantId` option is needed: passwords are checked at their tenant',
      );
    }
    return `/${encodeURIComponent(this.#options.tenantId)}/oauth2/v2.0/token`;
  }

  *#passwords(app: ReturnType<typeof azureApplicationSchema.parse>, now: Date): Iterable<ProviderKey> {
    for (const password of app.passwordCredentials) {
      const end = password.endDateTime ? new Date(password.endDateTime) : undefined;
      yield {
        providerKeyId: password.keyId,
        account: app.appId,
        status: end && end <= now ? 'expired' : 'active',
        ...(password.displayName ? { name: password.displayName } : {}),
        ...(password.startDateTime ? { createdAt: new Date(password.startDateTime) } : {}),
        ...(end ? { expiresAt: end } : {}),
      };
    }
  }

  /** The adapter's Graph token (client credentials with its own secret), renewed a minute before expiry. */
  async #auth(): Promise<{ headers: Record<string, string>; secrets: SecretValue[] }> {
    const now = this.#context.clock().getTime();
    if (!this.#accessToken || this.#accessToken.expiresAt - 60_000 <= now) {
      if (!this.#options.clientId || !this.#options.clientSecret) {
        throw new ProviderError(
          'E_PROVIDER_AUTH',
          this.name,
          "this call needs the `clientId` and `clientSecret` options (the adapter's app registration)",
        );
      }
      const answer = await this.#login.send({
        method: 'POST',
        path: this.#tokenPath(),
        form: {
          client_id: this.#options.clientId,
          client_secret: this.#options.clientSecret.reveal(),
          scope: AZURE_GRAPH_SCOPE,
          grant_type: 'client_credentials',
        },
        idempotent: true,
      });
      const token = azureTokenSchema.parse(answer.body);
      this.#accessToken = { value: new SecretValue(token.access_token), expiresAt: now + token.expires_in * 1000 };
    }
    const token = this.#accessToken.value;
    return { headers: { authorization: `Bearer ${token.reveal()}` }, secrets: [token] };
  }
}
