// The Entra ID adapter: application passwords (client secrets) through Microsoft Graph — add (`addPassword`: the
// secret text is returned once, with `endDateTime`), list (`passwordCredentials` of the application), remove
// (`removePassword`) — verify by a client-credentials token request with the password, and last use from the
// service-principal sign-in logs (`servicePrincipalCredentialKeyId`). The account is the application's appId.
//
// Graph calls go through Microsoft's official SDK, @microsoft/microsoft-graph-client (v3): `client.api(path)`
// builds the URL on `options.baseUrl` (v1.0, or beta for sign-ins), serializes the body, parses the answer, and
// throws a GraphError (statusCode, code, message, headers, body) that `azureAnswerOf` turns back into the answer
// for parseAzureError. The client is built with a middleware chain of our own (initWithMiddleware) — the SDK's
// TelemetryHandler, then `TimedFetchHandler` below in place of its HTTPMessageHandler — and none of the SDK's
// RetryHandler (our retry policy applies, through SdkCaller), RedirectHandler or AuthenticationHandler: that one
// attaches the token only to https URLs of Microsoft's Graph hosts (or `customHosts`), so the bearer token is set
// on each request instead, whatever the Graph root. Each attempt is aborted after `options.timeoutMs`.
//
// Tokens are NOT taken through @azure/identity: its ClientSecretCredential (and MSAL under it) refuses any authority
// that is not https ("The authorityHost address must use the 'https' protocol.") and fetches the authority's
// OpenID metadata first, so it cannot use a plain `loginUrl`. The token request is a plain OAuth2 form POST
// (client-credentials grant), kept on our HTTP client, for the adapter's own Graph token and for verify alike.
import {
  Client,
  type Context,
  GraphError,
  type GraphRequest,
  type Middleware,
  TelemetryHandler,
} from '@microsoft/microsoft-graph-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { ProviderError } from '../../errors/provider-error.js';
import { SecretValue } from '../../secrets/secret-value.js';
import {
  type HttpAnswer,
  type ProviderErrorBody,
  ProviderHttpClient,
  transportError,
} from '../http/provider-http-client.js';
import { type SdkCaller, sdkAnswer, transportErrorOfChain } from '../http/sdk-caller.js';
import type { CreatedKey, CreateKeyRequest, LastUsed, ProviderKey, ProviderKeyRef, VerifyResult } from '../provider.js';
import { ProviderAdapter } from '../provider-adapter.js';
import type { ProviderContext } from '../provider-context.js';
import { AZURE_GRAPH_SCOPE, AZURE_PAGE_SIZE, AZURE_PROVIDER_NAME } from './azure-constants.js';
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
import { azureProviderRegistration } from './index.js';

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

/**
 * The answer inside a GraphError. For Graph's `{error: {...}}` the SDK keeps the inner object as JSON text in
 * `body` (and its code in `code`); for any other error answer, the parsed body or its text. Failures without an
 * answer (statusCode -1) and answers that could not be read (a 2xx) are not answers: undefined.
 */
export function azureAnswerOf(error: unknown): HttpAnswer | undefined {
  if (!(error instanceof GraphError) || error.statusCode < 300) return undefined;
  let body: unknown = error.body;
  if (typeof body === 'string' && error.code !== null) {
    try {
      body = { error: JSON.parse(body) };
    } catch {
      // Left as text.
    }
  } else if (body !== null && typeof body === 'object' && !isPlainJson(body)) {
    // A body the SDK left unread (a stream of a type it does not parse): nothing to quote.
    body = undefined;
  }
  return sdkAnswer(error.statusCode, error.headers, body);
}

function isPlainJson(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return Array.isArray(value) || prototype === Object.prototype || prototype === null;
}

/**
 * A failure without an answer. The SDK keeps only the name of what the fetch threw (as `code`); TimedFetchHandler
 * names it after the socket code or `TimeoutError`. A 2xx whose body could not be read is no transport failure.
 */
function azureTransportError(error: unknown): ProviderError {
  if (error instanceof GraphError) {
    if (error.statusCode > 0) {
      return new ProviderError(
        'E_PROVIDER',
        AZURE_PROVIDER_NAME,
        `Graph answered HTTP ${error.statusCode} with a body that could not be read`,
        { status: error.statusCode },
      );
    }
    if (error.code === 'TimeoutError' || error.code === 'AbortError') {
      return transportError(AZURE_PROVIDER_NAME, { name: 'TimeoutError' });
    }
    return transportError(AZURE_PROVIDER_NAME, { code: error.code ?? 'CONNECTION' });
  }
  return transportErrorOfChain(AZURE_PROVIDER_NAME, error);
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * The last link of the Graph client's middleware chain, in place of the SDK's HTTPMessageHandler (which sends with
 * the global fetch): undici's fetch on the adapter's own agent (closed in close()), aborted after `timeoutMs`, the
 * body read within that time so that a cut-off answer is a transport failure rather than a half-read one.
 */
class TimedFetchHandler implements Middleware {
  readonly #agent: Agent;
  readonly #timeoutMs: number;

  constructor(agent: Agent, timeoutMs: number) {
    this.#agent = agent;
    this.#timeoutMs = timeoutMs;
  }

  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    try {
      const response = await undiciFetch(url, {
        ...(context.options as Parameters<typeof undiciFetch>[1]),
        signal: AbortSignal.timeout(this.#timeoutMs),
        dispatcher: this.#agent,
      });
      const body = NULL_BODY_STATUSES.has(response.status) ? null : await response.arrayBuffer();
      // The global Response the SDK expects (its GraphError keeps these headers; `sdkAnswer` reads them).
      context.response = new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: [...response.headers],
      });
    } catch (error) {
      // The SDK wraps what is thrown here in a GraphError keeping only its name and message: name it so that
      // azureTransportError can tell a timeout from a dropped connection (a socket code, never request content).
      const mapped = transportErrorOfChain(AZURE_PROVIDER_NAME, error);
      const failure = new Error(mapped.message);
      failure.name = mapped.code === 'E_PROVIDER_TIMEOUT' ? 'TimeoutError' : (mapped.providerCode ?? 'CONNECTION');
      throw failure;
    }
  }
}

export class AzureProvider extends ProviderAdapter {
  readonly #options: AzureOptions;
  readonly #context: ProviderContext;
  /** The Graph client's sockets: ours, so that close() releases them. */
  readonly #agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  readonly #graph: Client;
  /** Paces (Graph's throttling), retries and maps the errors of every Graph call. */
  readonly #caller: SdkCaller;
  /** The identity platform's token endpoint (see the header: no SDK for it here). */
  readonly #login: ProviderHttpClient;
  #accessToken: { value: SecretValue; expiresAt: number } | undefined;

  constructor(options: AzureOptionsInput | AzureOptions, context: ProviderContext) {
    const parsed = azureOptionsSchema.parse(options);
    super(azureProviderRegistration, parsed, context);
    this.#options = parsed;
    this.#context = context;
    this.#graph = Client.initWithMiddleware({
      baseUrl: this.#options.baseUrl,
      defaultVersion: 'v1.0',
      fetchOptions: { headers: { 'user-agent': 'keyledger' } },
      middleware: [new TelemetryHandler(), new TimedFetchHandler(this.#agent, this.#options.timeoutMs)],
    });
    this.#caller = this.sdkCaller({
      answerOf: azureAnswerOf,
      parseError: parseAzureError,
      transportErrorOf: azureTransportError,
      secrets: [this.#options.clientSecret],
    });
    this.#login = new ProviderHttpClient(
      {
        provider: this.name,
        baseUrl: this.#options.loginUrl,
        timeoutMs: this.#options.timeoutMs,
        retry: this.#options.retry,
        parseError: parseAzureError,
        headers: () => ({ 'user-agent': 'keyledger' }),
        ...(this.#options.clientSecret ? { secrets: [this.#options.clientSecret] } : {}),
      },
      this.retryContext,
    );
  }

  /** `options.displayName` overrides the request's name; `expiresAt` becomes `endDateTime` (Graph's default: 2 years). */
  async create(request: CreateKeyRequest): Promise<CreatedKey> {
    const appId = this.#appId(request.account);
    const passwordCredential = {
      displayName: typeof request.options?.displayName === 'string' ? request.options.displayName : request.name,
      ...(request.expiresAt ? { endDateTime: request.expiresAt.toISOString() } : {}),
    };
    const answer = await this.#call(false, (graph) =>
      graph(`${this.#application(appId)}/addPassword`).post({ passwordCredential }),
    );
    const password = azurePasswordCredentialSchema.parse(answer);
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
      const appId = this.#appId(options.account);
      const answer = await this.#call(true, (graph) => graph(this.#application(appId)).get());
      yield* this.#passwords(azureApplicationSchema.parse(answer), now);
      return;
    }
    let next: string | undefined;
    do {
      const link = next;
      const answer = await this.#call(true, (graph) =>
        link
          ? nextLinkRequest(graph, link).get()
          : graph('/applications')
              .select(['id', 'appId', 'displayName', 'passwordCredentials'])
              .top(AZURE_PAGE_SIZE)
              .get(),
      );
      const page = azureApplicationPageSchema.parse(answer);
      for (const app of page.value) yield* this.#passwords(app, now);
      next = page['@odata.nextLink'];
    } while (next);
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
    let answer: unknown;
    try {
      answer = await this.#call(true, (graph) => graph(this.#application(appId)).get());
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return;
      throw error;
    }
    const held = azureApplicationSchema.parse(answer).passwordCredentials.some((p) => p.keyId === ref.providerKeyId);
    if (!held) return;
    // Removing twice changes nothing more, so a lost answer may be retried.
    await this.#call(true, (graph) =>
      graph(`${this.#application(appId)}/removePassword`).post({ keyId: ref.providerKeyId }),
    );
  }

  /** The newest service-principal sign-in with the password (Graph beta only). */
  async lastUsed(ref: ProviderKeyRef): Promise<LastUsed> {
    const filter = `signInEventTypes/any(t: t eq 'servicePrincipal') and servicePrincipalCredentialKeyId eq '${ref.providerKeyId.replace(/'/g, "''")}'`;
    const answer = await this.#call(true, (graph) =>
      // The SDK puts query values into the URL as given: encoded here.
      graph('/auditLogs/signIns').version('beta').filter(encodeURIComponent(filter)).top(1).get(),
    );
    const newest = azureSignInPageSchema.parse(answer).value[0];
    if (!newest) return { at: null };
    return { at: new Date(newest.createdDateTime), ...(newest.ipAddress ? { sourceIp: newest.ipAddress } : {}) };
  }

  async close(): Promise<void> {
    await Promise.all([this.#agent.close(), this.#login.close()]);
  }

  /**
   * One Graph call through the SDK: the adapter's token first (its own call, so that the identity platform's
   * answer is read as such), then `send` with a request builder carrying that token, paced, retried and mapped.
   */
  async #call<T>(idempotent: boolean, send: (graph: (path: string) => GraphRequest) => Promise<T>): Promise<T> {
    const token = await this.#token();
    const graph = (path: string) => this.#graph.api(path).header('Authorization', `Bearer ${token.reveal()}`);
    return this.#caller.call({ idempotent, secrets: [token] }, () => send(graph));
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

  /** An application by its appId (alternate key), on the client's default version (v1.0). */
  #application(appId: string): string {
    return `/applications(appId='${encodeURIComponent(appId.replace(/'/g, "''"))}')`;
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
  async #token(): Promise<SecretValue> {
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
    return this.#accessToken.value;
  }
}

/**
 * The request for an `@odata.nextLink`: its version and path (with the skip token) on the client's own Graph root,
 * as before the move to the SDK (whose `api()` takes a full URL only when it is https).
 */
function nextLinkRequest(graph: (path: string) => GraphRequest, link: string): GraphRequest {
  const url = new URL(link);
  const [, version, ...path] = url.pathname.split('/');
  return graph(`/${path.join('/')}${url.search}`).version(version ?? 'v1.0');
}
