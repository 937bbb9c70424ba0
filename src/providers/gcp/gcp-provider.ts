// The GCP adapter: service-account keys through the IAM API — create (the secret is the JSON key file Google
// returns in `privateKeyData`), list, revoke (`:disable`, then delete) — verify by the OAuth 2 JWT-bearer exchange
// signed with the key file's private key, and last use from Policy Analyzer's serviceAccountKeyLastAuthentication.
// The adapter authenticates the same way with its own key file and keeps the access token until shortly before
// it expires. The account is the service account's email.
//
// IAM calls go through Google's official generated client, @googleapis/iam (v1: projects.serviceAccounts.list,
// projects.serviceAccounts.keys.create / list / disable / delete), built with `rootUrl` = `options.baseUrl`,
// gaxios' own retries off (`retry: false`, `retryConfig.retry: 0`: our policy applies, through SdkCaller),
// `timeout` = `options.timeoutMs` per attempt, and http(s) agents of the adapter's own, destroyed by close(). Its `auth` is a google-auth-library OAuth2Client that only carries
// the adapter's access token (no expiry, no refresh token or handler: it never refreshes a token, nor repeats a
// 401/403 with a new one, behind our back). The generated client has no Policy Analyzer surface (that is
// @googleapis/policyanalyzer, not a dependency), so that call uses the same OAuth2Client's generic `request()`:
// transport, auth and GaxiosError answers alike. So does Resource Manager's `projects.getIamPolicy` (v1, POST
// /v1/projects/{project}:getIamPolicy; @googleapis/cloudresourcemanager is not a dependency either), which list()
// reads once per listing to give each key its service account's roles as `permissions`. A GaxiosError's status, headers and Google's error body are read
// by `gcpAnswerOf` and parsed by parseGcpError; the SDK error itself is never kept.
//
// The JWT-bearer exchange is NOT done by google-auth-library: its JWT client (through gtoken 8) posts to, and
// signs its assertion for, the hard-coded https://oauth2.googleapis.com/token — neither the key file's
// `token_uri` nor any option moves it (OAuth2Client's `endpoints.oauth2TokenUrl` serves only the refresh-token
// and authorization-code grants) — and it leaves `kid` out of the JWT header and keeps the assertion out of our
// reach for redaction. So the exchange stays on our HTTP client, to `options.tokenUrl`, for the adapter's own token
// and for verify alike (a scanned key file's `token_uri` is not trusted as a destination).

import { createSign } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { iam, type iam_v1 } from '@googleapis/iam';
import { gaxios, OAuth2Client } from 'google-auth-library';
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
import {
  GCP_JWT_BEARER,
  GCP_MAX_KEYS_PER_ACCOUNT,
  GCP_PROVIDER_NAME,
  GCP_SCOPE,
  GCP_TOKEN_LIFETIME_SECONDS,
} from './gcp-constants.js';
import {
  type GcpKeyFile,
  type GcpOptions,
  type GcpOptionsInput,
  gcpActivitiesSchema,
  gcpApiErrorSchema,
  gcpIamPolicySchema,
  gcpKeyFileSchema,
  gcpKeyListSchema,
  gcpOauthErrorSchema,
  gcpOptionsSchema,
  gcpServiceAccountKeySchema,
  gcpServiceAccountListSchema,
  gcpTokenSchema,
} from './gcp-schemas.js';
import { gcpProviderRegistration } from './index.js';

/** Google's API error (`status` such as NOT_FOUND, RetryInfo's `retryDelay`) or its OAuth error (`invalid_grant`). */
export function parseGcpError(answer: HttpAnswer): ProviderErrorBody {
  const api = gcpApiErrorSchema.safeParse(answer.body);
  if (api.success) {
    const { message, status, details } = api.data.error;
    const delay = details?.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'))?.retryDelay;
    const seconds = delay ? Number.parseFloat(delay) : undefined;
    return {
      message: message ?? `HTTP ${answer.status}`,
      ...(status ? { providerCode: status } : {}),
      ...(status === 'RESOURCE_EXHAUSTED' ? { code: 'E_PROVIDER_RATE_LIMITED' as const } : {}),
      ...(seconds !== undefined && Number.isFinite(seconds) ? { retryAfterSeconds: seconds } : {}),
    };
  }
  const oauth = gcpOauthErrorSchema.safeParse(answer.body);
  if (oauth.success) {
    const refused = oauth.data.error === 'invalid_grant' || oauth.data.error === 'invalid_client';
    return {
      message: oauth.data.error_description ?? oauth.data.error,
      providerCode: oauth.data.error,
      ...(refused ? { code: 'E_PROVIDER_AUTH' as const } : {}),
    };
  }
  return { message: answer.text.trim() || `HTTP ${answer.status}` };
}

/** The answer inside a GaxiosError (status, headers, Google's error body); undefined when none came back. */
export function gcpAnswerOf(error: unknown): HttpAnswer | undefined {
  if (!(error instanceof gaxios.GaxiosError) || !error.response) return undefined;
  const { status, headers, data } = error.response;
  return sdkAnswer(status, headers, data);
}

/**
 * A failure without an answer. gaxios (on node-fetch) ends an attempt past its `timeout` by aborting it with
 * AbortSignal.timeout: the GaxiosError's cause is node-fetch's AbortError and the request's signal holds the
 * TimeoutError reason (on a WHATWG fetch the cause is that DOMException, and gaxios copies its name into `code`).
 * Nothing else aborts our calls, so this is a retryable timeout, not a refused connection. Anything else is read
 * from the cause chain (node-fetch's FetchError carries the socket's code, ECONNRESET and the like).
 */
export function gcpTransportError(error: unknown): ProviderError {
  const { code, cause, config } = (error ?? {}) as {
    code?: unknown;
    cause?: { name?: unknown };
    config?: { signal?: { reason?: { name?: unknown } } };
  };
  const timedOut =
    code === 'TimeoutError' ||
    cause?.name === 'TimeoutError' ||
    cause?.name === 'AbortError' ||
    config?.signal?.reason?.name === 'TimeoutError';
  if (timedOut) return transportError(GCP_PROVIDER_NAME, { name: 'TimeoutError' });
  return transportErrorOfChain(GCP_PROVIDER_NAME, error);
}

/** An RS256 JWT asking for a cloud-platform token, signed with the key file's private key. */
export function signGcpAssertion(file: GcpKeyFile, audience: string, now: Date): string {
  const iat = Math.floor(now.getTime() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', kid: file.private_key_id };
  const claims = {
    iss: file.client_email,
    scope: GCP_SCOPE,
    aud: audience,
    iat,
    exp: iat + GCP_TOKEN_LIFETIME_SECONDS,
  };
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode(header)}.${encode(claims)}`;
  const signature = createSign('RSA-SHA256').update(unsigned).sign(file.private_key).toString('base64url');
  return `${unsigned}.${signature}`;
}

/** `name@project.iam.gserviceaccount.com` -> `project`. */
function projectOf(email: string): string | undefined {
  return /@([^.]+)\.iam\.gserviceaccount\.com$/.exec(email)?.[1];
}

/** How many of the adapter's latest access tokens stay on the redaction list (a call may still hold the last one). */
const TOKENS_REDACTED = 2;

export class GcpProvider extends ProviderAdapter {
  readonly #options: GcpOptions;
  readonly #context: ProviderContext;
  /** Carries the adapter's access token for the IAM client and Policy Analyzer; never fetches one itself. */
  readonly #authClient = new OAuth2Client();
  /** The SDK's sockets (gaxios sends through node-fetch on these), closed with the adapter. */
  readonly #agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  readonly #iam: iam_v1.Iam;
  /** IAM calls, paced by the adapter's token bucket. */
  readonly #iamCaller: SdkCaller;
  readonly #analyzerCaller: SdkCaller;
  readonly #resourceManagerCaller: SdkCaller;
  /** The JWT-bearer exchange (see the header: google-auth-library cannot send it to `options.tokenUrl`). */
  readonly #oauth: ProviderHttpClient;
  /** Cut out of every SDK error: the adapter's key file and its latest access tokens. */
  readonly #redacted: SecretValue[] = [];
  #accessToken: { value: SecretValue; expiresAt: number } | undefined;

  constructor(options: GcpOptionsInput | GcpOptions, context: ProviderContext) {
    const parsed = gcpOptionsSchema.parse(options);
    super(gcpProviderRegistration, parsed, context);
    this.#options = parsed;
    this.#context = context;
    if (this.#options.credentials) this.#redacted.push(this.#options.credentials);
    this.#iam = iam({
      version: 'v1',
      // The generated client joins `rootUrl` and `v1/...`: it wants the trailing slash.
      rootUrl: withTrailingSlash(this.#options.baseUrl),
      auth: this.#authClient,
      // Pinned: GOOGLE_CLOUD_UNIVERSE_DOMAIN would otherwise rewrite *.googleapis.com hosts behind `baseUrl`.
      universeDomain: 'googleapis.com',
      ...this.#gaxiosOptions(),
    });
    const caller = (paced: boolean) =>
      this.sdkCaller({
        answerOf: gcpAnswerOf,
        parseError: parseGcpError,
        transportErrorOf: gcpTransportError,
        secrets: this.#redacted,
        paced,
      });
    // Policy Analyzer has a budget of its own, apart from IAM's: its calls are not paced against IAM's limit.
    this.#iamCaller = caller(true);
    this.#analyzerCaller = caller(false);
    // Resource Manager's read quota is its own too; one call per listing.
    this.#resourceManagerCaller = caller(false);
    this.#oauth = new ProviderHttpClient(
      {
        provider: this.name,
        baseUrl: new URL(this.#options.tokenUrl).origin,
        timeoutMs: this.#options.timeoutMs,
        retry: this.#options.retry,
        parseError: parseGcpError,
        headers: () => ({ 'user-agent': 'keyledger' }),
        ...(this.#options.credentials ? { secrets: [this.#options.credentials] } : {}),
      },
      this.retryContext,
    );
  }

  async create(request: CreateKeyRequest): Promise<CreatedKey> {
    const email = this.#account(request.account);
    await this.#auth();
    let answer: iam_v1.Schema$ServiceAccountKey;
    try {
      ({ data: answer } = await this.#iamCaller.call({ idempotent: false }, () =>
        this.#iam.projects.serviceAccounts.keys.create({
          name: this.#accountName(email),
          requestBody: { privateKeyType: 'TYPE_GOOGLE_CREDENTIALS_FILE', keyAlgorithm: 'KEY_ALG_RSA_2048' },
        }),
      ));
    } catch (error) {
      throw await this.#explainCreateFailure(error, email);
    }
    const key = gcpServiceAccountKeySchema.parse(answer);
    if (!key.privateKeyData) throw new ProviderError('E_PROVIDER', this.name, 'Google answered without the key file');
    const validBefore = key.validBeforeTime ? new Date(key.validBeforeTime) : undefined;
    return {
      providerKeyId: key.name.split('/').pop()!,
      account: email,
      secret: new SecretValue(Buffer.from(key.privateKeyData, 'base64').toString('utf8')),
      createdAt: key.validAfterTime ? new Date(key.validAfterTime) : this.#context.clock(),
      // Google writes 9999-12-31 for keys that never expire.
      ...(validBefore && validBefore.getUTCFullYear() < 9999 ? { expiresAt: validBefore } : {}),
    };
  }

  /**
   * One service account's user-managed keys, or those of every account in `projectId`, each with the roles its
   * service account holds in the project's IAM policy (`projectId`, else the account's own project) as
   * `permissions`: a key acts as its account. One getIamPolicy call per listing; when it fails (PERMISSION_DENIED:
   * the adapter's account lacks `resourcemanager.projects.getIamPolicy`), the keys are listed without
   * `permissions` (unread; read and holding no role is `[]`). Roles granted elsewhere (a folder, the organisation,
   * another project) are not read.
   */
  async *list(options: { account?: string } = {}): AsyncIterable<ProviderKey> {
    const emails = options.account !== undefined ? [this.#account(options.account)] : await this.#serviceAccounts();
    const project = this.#options.projectId ?? (emails[0] ? projectOf(emails[0]) : undefined);
    const roles = emails.length && project ? await this.#rolesOfServiceAccounts(project) : undefined;
    for (const email of emails) {
      const permissions = roles ? (roles.get(email) ?? []) : undefined;
      await this.#auth();
      const { data } = await this.#iamCaller.call({ idempotent: true }, () =>
        this.#iam.projects.serviceAccounts.keys.list({ name: this.#accountName(email), keyTypes: ['USER_MANAGED'] }),
      );
      for (const key of gcpKeyListSchema.parse(data).keys) {
        const validBefore = key.validBeforeTime ? new Date(key.validBeforeTime) : undefined;
        yield {
          providerKeyId: key.name.split('/').pop()!,
          account: email,
          status: key.disabled
            ? 'inactive'
            : validBefore && validBefore <= this.#context.clock()
              ? 'expired'
              : 'active',
          ...(key.validAfterTime ? { createdAt: new Date(key.validAfterTime) } : {}),
          ...(validBefore && validBefore.getUTCFullYear() < 9999 ? { expiresAt: validBefore } : {}),
          ...(permissions ? { permissions } : {}),
        };
      }
    }
  }

  /**
   * The project's IAM policy, as each service account's roles (`serviceAccount:<email>` members; conditional
   * bindings counted as granted). Undefined when the read fails after its retries: the keys go unread, the
   * listing on.
   */
  async #rolesOfServiceAccounts(project: string): Promise<Map<string, string[]> | undefined> {
    const root = this.#options.resourceManagerUrl.replace(/\/+$/, '');
    let data: unknown;
    try {
      await this.#auth();
      ({ data } = await this.#resourceManagerCaller.call({ idempotent: true }, () =>
        this.#authClient.request<unknown>({
          url: `${root}/v1/projects/${encodeURIComponent(project)}:getIamPolicy`,
          method: 'POST',
          // Version 3 asks for conditional bindings as they are, not folded away.
          data: { options: { requestedPolicyVersion: 3 } },
          responseType: 'json',
          ...this.#gaxiosOptions(),
        }),
      ));
    } catch (error) {
      if (error instanceof ProviderError) return undefined;
      throw error;
    }
    const roles = new Map<string, string[]>();
    for (const binding of gcpIamPolicySchema.parse(data).bindings) {
      for (const member of binding.members) {
        if (!member.startsWith('serviceAccount:')) continue;
        const email = member.slice('serviceAccount:'.length);
        const held = roles.get(email) ?? [];
        if (!held.includes(binding.role)) held.push(binding.role);
        roles.set(email, held);
      }
    }
    return roles;
  }

  /** Exchanges a JWT signed with the key file for an access token, as any Google client library would. */
  async verify(secret: SecretValue): Promise<VerifyResult> {
    const file = this.#keyFile(secret);
    if (!file)
      return {
        valid: false,
        reason: 'not a service-account key file (type, private_key_id, private_key, client_email)',
      };
    const assertion = new SecretValue(signGcpAssertion(file, this.#options.tokenUrl, this.#context.clock()));
    const answer = await this.#oauth.send({
      method: 'POST',
      path: new URL(this.#options.tokenUrl).pathname,
      form: { grant_type: GCP_JWT_BEARER, assertion: assertion.reveal() },
      accept: [400, 401],
      // Retrying an exchange is harmless: at worst a second short-lived token.
      idempotent: true,
      secrets: [secret, assertion],
    });
    if (answer.status !== 200)
      return { valid: false, reason: parseGcpError(answer).message, providerKeyId: file.private_key_id };
    gcpTokenSchema.parse(answer.body);
    return { valid: true, identity: file.client_email, providerKeyId: file.private_key_id };
  }

  /** Disables first, so a failed delete still leaves the key unusable; a key already gone is not an error. */
  async revoke(ref: ProviderKeyRef): Promise<void> {
    const email = this.#account(ref.account);
    const name = `${this.#accountName(email)}/keys/${encodeURIComponent(ref.providerKeyId)}`;
    const keys = this.#iam.projects.serviceAccounts.keys;
    for (const send of [() => keys.disable({ name, requestBody: {} }), () => keys.delete({ name })]) {
      await this.#auth();
      try {
        await this.#iamCaller.call({ idempotent: true }, send);
      } catch (error) {
        if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return;
        throw error;
      }
    }
  }

  async lastUsed(ref: ProviderKeyRef): Promise<LastUsed> {
    const email = this.#account(ref.account);
    const project = projectOf(email) ?? this.#options.projectId;
    if (!project)
      throw new ProviderError('E_PROVIDER_INVALID_REQUEST', this.name, `cannot tell the project of ${email}`);
    const fullName = `//iam.googleapis.com/projects/${project}/serviceAccounts/${email}/keys/${ref.providerKeyId}`;
    const root = this.#options.policyAnalyzerUrl.replace(/\/+$/, '');
    const path = `/v1/projects/${encodeURIComponent(project)}/locations/global/activityTypes/serviceAccountKeyLastAuthentication/activities:query`;
    await this.#auth();
    // No generated Policy Analyzer client here: the auth client's generic request (gaxios, same token and errors).
    const { data } = await this.#analyzerCaller.call({ idempotent: true }, () =>
      this.#authClient.request<unknown>({
        url: `${root}${path}`,
        method: 'GET',
        params: { filter: `activities.full_resource_name="${fullName}"` },
        responseType: 'json',
        ...this.#gaxiosOptions(),
      }),
    );
    const at = gcpActivitiesSchema.parse(data).activities[0]?.activity?.lastAuthenticatedTime;
    return { at: at ? new Date(at) : null };
  }

  /** Releases the SDK's sockets and our token client's. */
  async close(): Promise<void> {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
    await this.#oauth.close();
  }

  /** Per attempt: gaxios' timeout, none of its retries (ours apply through SdkCaller), the adapter's own agents. */
  #gaxiosOptions() {
    return {
      timeout: this.#options.timeoutMs,
      retry: false,
      retryConfig: { retry: 0, noResponseRetries: 0 },
      agent: (url: URL) => (url.protocol === 'https:' ? this.#agents.https : this.#agents.http),
    };
  }

  #account(account: string | undefined): string {
    if (!account?.includes('@')) {
      throw new ProviderError(
        'E_PROVIDER_INVALID_REQUEST',
        this.name,
        `account must be a service account's email${account ? `, not ${account}` : ''}`,
      );
    }
    return account;
  }

  /** The resource name IAM's `{+name}` takes (`-`: the project is inferred from the account). */
  #accountName(email: string): string {
    return `projects/-/serviceAccounts/${encodeURIComponent(email)}`;
  }

  #keyFile(secret: SecretValue): GcpKeyFile | undefined {
    try {
      const parsed = gcpKeyFileSchema.safeParse(JSON.parse(secret.reveal()));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** Makes sure the auth client carries a live access token (renewed a minute before expiry). */
  async #auth(): Promise<void> {
    const now = this.#context.clock().getTime();
    if (this.#accessToken && this.#accessToken.expiresAt - 60_000 > now) return;
    if (!this.#options.credentials) {
      throw new ProviderError(
        'E_PROVIDER_AUTH',
        this.name,
        'this call needs the `credentials` option (a key-admin key file)',
      );
    }
    const file = this.#keyFile(this.#options.credentials);
    if (!file) {
      throw new ProviderError('E_PROVIDER_AUTH', this.name, 'the credentials option is not a service-account key file');
    }
    const assertion = new SecretValue(signGcpAssertion(file, this.#options.tokenUrl, this.#context.clock()));
    const answer = await this.#oauth.send({
      method: 'POST',
      path: new URL(this.#options.tokenUrl).pathname,
      form: { grant_type: GCP_JWT_BEARER, assertion: assertion.reveal() },
      idempotent: true,
      secrets: [assertion],
    });
    const token = gcpTokenSchema.parse(answer.body);
    const value = new SecretValue(token.access_token);
    this.#accessToken = { value, expiresAt: now + token.expires_in * 1000 };
    const tokens = this.#redacted.length - (this.#options.credentials ? 1 : 0);
    if (tokens >= TOKENS_REDACTED) this.#redacted.splice(this.#options.credentials ? 1 : 0, 1);
    this.#redacted.push(value);
    // Handed to the SDK here: no expiry_date, so the OAuth2Client never judges it stale and asks for another.
    this.#authClient.setCredentials({ access_token: value.reveal() });
  }

  async #serviceAccounts(): Promise<string[]> {
    const projectId = this.#options.projectId;
    if (!projectId) {
      throw new ProviderError(
        'E_PROVIDER_INVALID_REQUEST',
        this.name,
        'list() without an account needs the projectId option',
      );
    }
    const emails: string[] = [];
    let pageToken: string | undefined;
    do {
      await this.#auth();
      const token = pageToken;
      const { data } = await this.#iamCaller.call({ idempotent: true }, () =>
        this.#iam.projects.serviceAccounts.list({
          name: `projects/${encodeURIComponent(projectId)}`,
          pageSize: 100,
          ...(token ? { pageToken: token } : {}),
        }),
      );
      const page = gcpServiceAccountListSchema.parse(data);
      emails.push(...page.accounts.map((account) => account.email));
      pageToken = page.nextPageToken;
    } while (pageToken);
    return emails;
  }

  /** FAILED_PRECONDITION on create is Google's way of saying the account already holds 10 keys (or policy forbids). */
  async #explainCreateFailure(error: unknown, email: string): Promise<unknown> {
    if (!(error instanceof ProviderError) || error.providerCode !== 'FAILED_PRECONDITION') return error;
    let held = 0;
    for await (const _ of this.list({ account: email })) held++;
    if (held < GCP_MAX_KEYS_PER_ACCOUNT) return error;
    return new ProviderError(
      'E_PROVIDER_LIMIT_EXCEEDED',
      this.name,
      `${email} already holds ${held} keys, Google's limit of ${GCP_MAX_KEYS_PER_ACCOUNT} per service account (disabled keys count): delete one first`,
      { status: error.status ?? 400, providerCode: 'FAILED_PRECONDITION', retryable: false },
    );
  }
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
