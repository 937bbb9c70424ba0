// The GCP adapter: service-account keys through the IAM API — create (the secret is the JSON key file Google
// returns in `privateKeyData`), list, revoke (`:disable`, then delete) — verify by the OAuth 2 JWT-bearer exchange
// signed with the key file's private key, and last use from Policy Analyzer's serviceAccountKeyLastAuthentication.
// The adapter authenticates the same way with its own key file and keeps the access token until shortly before
// it expires. The account is the service account's email.
import { createSign } from 'node:crypto';
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
  GCP_CAPABILITIES,
  GCP_JWT_BEARER,
  GCP_MAX_KEYS_PER_ACCOUNT,
  GCP_PROVIDER_NAME,
  GCP_RATE_LIMIT,
  GCP_SCOPE,
  GCP_TOKEN_LIFETIME_SECONDS,
} from './gcp-constants.js';
import {
  type GcpKeyFile,
  type GcpOptions,
  type GcpOptionsInput,
  gcpActivitiesSchema,
  gcpApiErrorSchema,
  gcpKeyFileSchema,
  gcpKeyListSchema,
  gcpOauthErrorSchema,
  gcpOptionsSchema,
  gcpServiceAccountKeySchema,
  gcpServiceAccountListSchema,
  gcpTokenSchema,
} from './gcp-schemas.js';

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

export class GcpProvider implements Provider {
  readonly name = GCP_PROVIDER_NAME;
  readonly #options: GcpOptions;
  readonly #context: ProviderContext;
  readonly #iam: ProviderHttpClient;
  readonly #oauth: ProviderHttpClient;
  readonly #analyzer: ProviderHttpClient;
  #accessToken: { value: SecretValue; expiresAt: number } | undefined;

  constructor(options: GcpOptionsInput | GcpOptions, context: ProviderContext) {
    this.#options = gcpOptionsSchema.parse(options);
    this.#context = context;
    const limit = effectiveRateLimit(GCP_RATE_LIMIT, this.#options.rateLimit);
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
          parseError: parseGcpError,
          ...(rateLimiter ? { rateLimiter } : {}),
          headers: () => ({ 'user-agent': 'keyledger' }),
          ...(this.#options.credentials ? { secrets: [this.#options.credentials] } : {}),
        },
        retryContext,
      );
    this.#iam = client(this.#options.baseUrl, limit ? new TokenBucket(limit) : undefined);
    this.#oauth = client(new URL(this.#options.tokenUrl).origin);
    this.#analyzer = client(this.#options.policyAnalyzerUrl);
  }

  capabilities(): ProviderCapabilities {
    return structuredClone(GCP_CAPABILITIES);
  }

  rateLimit(): RateLimit {
    return effectiveRateLimit(GCP_RATE_LIMIT, this.#options.rateLimit) ?? GCP_RATE_LIMIT;
  }

  async create(request: CreateKeyRequest): Promise<CreatedKey> {
    const email = this.#account(request.account);
    const auth = await this.#auth();
    let answer: HttpAnswer;
    try {
      answer = await this.#iam.send({
        method: 'POST',
        path: `${this.#keysPath(email)}`,
        headers: auth.headers,
        json: { privateKeyType: 'TYPE_GOOGLE_CREDENTIALS_FILE', keyAlgorithm: 'KEY_ALG_RSA_2048' },
        idempotent: false,
        secrets: auth.secrets,
      });
    } catch (error) {
      throw await this.#explainCreateFailure(error, email);
    }
    const key = gcpServiceAccountKeySchema.parse(answer.body);
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

  /** One service account's user-managed keys, or those of every account in `projectId`. */
  async *list(options: { account?: string } = {}): AsyncIterable<ProviderKey> {
    const emails = options.account !== undefined ? [this.#account(options.account)] : await this.#serviceAccounts();
    for (const email of emails) {
      const auth = await this.#auth();
      const answer = await this.#iam.send({
        method: 'GET',
        path: this.#keysPath(email),
        query: { keyTypes: 'USER_MANAGED' },
        headers: auth.headers,
        secrets: auth.secrets,
      });
      for (const key of gcpKeyListSchema.parse(answer.body).keys) {
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
        };
      }
    }
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
    const path = `${this.#keysPath(email)}/${encodeURIComponent(ref.providerKeyId)}`;
    for (const call of [
      { method: 'POST' as const, path: `${path}:disable`, json: {} },
      { method: 'DELETE' as const, path },
    ]) {
      const auth = await this.#auth();
      try {
        await this.#iam.send({ ...call, headers: auth.headers, secrets: auth.secrets, idempotent: true });
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
    const auth = await this.#auth();
    const answer = await this.#analyzer.send({
      method: 'GET',
      path: `/v1/projects/${encodeURIComponent(project)}/locations/global/activityTypes/serviceAccountKeyLastAuthentication/activities:query`,
      query: { filter: `activities.full_resource_name="${fullName}"` },
      headers: auth.headers,
      secrets: auth.secrets,
    });
    const at = gcpActivitiesSchema.parse(answer.body).activities[0]?.activity?.lastAuthenticatedTime;
    return { at: at ? new Date(at) : null };
  }

  async close(): Promise<void> {
    await Promise.all([this.#iam.close(), this.#oauth.close(), this.#analyzer.close()]);
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

  #keysPath(email: string): string {
    return `/v1/projects/-/serviceAccounts/${encodeURIComponent(email)}/keys`;
  }

  #keyFile(secret: SecretValue): GcpKeyFile | undefined {
    try {
      const parsed = gcpKeyFileSchema.safeParse(JSON.parse(secret.reveal()));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** The adapter's access token (renewed a minute before expiry), as a header and a secret to redact. */
  async #auth(): Promise<{ headers: Record<string, string>; secrets: SecretValue[] }> {
    const now = this.#context.clock().getTime();
    if (!this.#accessToken || this.#accessToken.expiresAt - 60_000 <= now) {
      if (!this.#options.credentials) {
        throw new ProviderError(
          'E_PROVIDER_AUTH',
          this.name,
          'this call needs the `credentials` option (a key-admin key file)',
        );
      }
      const file = this.#keyFile(this.#options.credentials);
      if (!file) {
        throw new ProviderError(
          'E_PROVIDER_AUTH',
          this.name,
          'the credentials option is not a service-account key file',
        );
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
      this.#accessToken = { value: new SecretValue(token.access_token), expiresAt: now + token.expires_in * 1000 };
    }
    const token = this.#accessToken.value;
    return { headers: { authorization: `Bearer ${token.reveal()}` }, secrets: [token] };
  }

  async #serviceAccounts(): Promise<string[]> {
    if (!this.#options.projectId) {
      throw new ProviderError(
        'E_PROVIDER_INVALID_REQUEST',
        this.name,
        'list() without an account needs the projectId option',
      );
    }
    const emails: string[] = [];
    let pageToken: string | undefined;
    do {
      const auth = await this.#auth();
      const answer = await this.#iam.send({
        method: 'GET',
        path: `/v1/projects/${encodeURIComponent(this.#options.projectId)}/serviceAccounts`,
        query: { pageSize: 100, pageToken },
        headers: auth.headers,
        secrets: auth.secrets,
      });
      const page = gcpServiceAccountListSchema.parse(answer.body);
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
