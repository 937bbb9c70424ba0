// The GitHub adapter: deploy keys (create, list, delete; the adapter mints the SSH key pair), the organisation's
// fine-grained PAT grants (list with token_last_used_at, revoke), and verify through `GET /user`. PATs cannot be
// created by API (capabilities().kinds says so): rotating one is a ticket for its owner.
import { SecretValue } from '../../secrets/secret-value.js';
import { ConcurrencyLimiter } from '../http/concurrency-limiter.js';
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
  GITHUB_API_VERSION,
  GITHUB_CAPABILITIES,
  GITHUB_PAGE_SIZE,
  GITHUB_PROVIDER_NAME,
  GITHUB_RATE_LIMIT,
} from './github-constants.js';
import {
  generateDeployKey,
  isOpenSshPrivateKey,
  normalisePublicKey,
  publicKeyOfPrivateKey,
} from './github-deploy-key.js';
import {
  type GithubOptions,
  type GithubOptionsInput,
  githubDeployKeySchema,
  githubErrorSchema,
  githubOptionsSchema,
  githubPatGrantSchema,
  githubUserSchema,
} from './github-schemas.js';

/** A deploy key's account is its repository (`owner/name`); a PAT grant's is the organisation. */
function isRepository(account: string | undefined): account is string {
  return account?.includes('/') === true;
}

/** GitHub's error body: `message`, and for 422 the first validation error's own message. */
export function parseGithubError(answer: HttpAnswer): ProviderErrorBody {
  const parsed = githubErrorSchema.safeParse(answer.body);
  const body = parsed.success ? parsed.data : {};
  const detail = body.errors?.[0];
  const message = [body.message ?? (answer.text || `HTTP ${answer.status}`), detail?.message]
    .filter(Boolean)
    .join(': ');
  const remaining = headerText(answer.headers['x-ratelimit-remaining']);
  const reset = Number(headerText(answer.headers['x-ratelimit-reset']));
  const rateLimited =
    answer.status === 429 ||
    (answer.status === 403 &&
      (answer.headers['retry-after'] !== undefined || remaining === '0' || /rate limit/i.test(message)));
  return {
    message,
    ...(detail?.code ? { providerCode: detail.code } : {}),
    ...(rateLimited ? { code: 'E_PROVIDER_RATE_LIMITED' as const } : {}),
    ...(rateLimited && remaining === '0' && Number.isFinite(reset)
      ? { retryAfterSeconds: Math.max(0, reset - Math.floor(Date.now() / 1000)) }
      : {}),
  };
}

export class GithubProvider implements Provider {
  readonly name = GITHUB_PROVIDER_NAME;
  readonly #options: GithubOptions;
  readonly #context: ProviderContext;
  readonly #http: ProviderHttpClient;

  constructor(options: GithubOptionsInput | GithubOptions, context: ProviderContext) {
    this.#options = githubOptionsSchema.parse(options);
    this.#context = context;
    const limit = effectiveRateLimit(GITHUB_RATE_LIMIT, this.#options.rateLimit);
    this.#http = new ProviderHttpClient(
      {
        provider: this.name,
        baseUrl: this.#options.baseUrl,
        timeoutMs: this.#options.timeoutMs,
        retry: this.#options.retry,
        parseError: parseGithubError,
        ...(limit ? { rateLimiter: new TokenBucket(limit) } : {}),
        ...(limit?.concurrency ? { concurrency: new ConcurrencyLimiter(limit.concurrency) } : {}),
        headers: () => ({
          accept: 'application/vnd.github+json',
          'x-github-api-version': GITHUB_API_VERSION,
          'user-agent': 'keyledger',
        }),
        ...(this.#options.token ? { secrets: [this.#options.token] } : {}),
      },
      { ...(context.sleep ? { sleep: context.sleep } : {}), ...(context.random ? { random: context.random } : {}) },
    );
  }

  capabilities(): ProviderCapabilities {
    return structuredClone(GITHUB_CAPABILITIES);
  }

  rateLimit(): RateLimit {
    return effectiveRateLimit(GITHUB_RATE_LIMIT, this.#options.rateLimit) ?? GITHUB_RATE_LIMIT;
  }

  #auth(): Record<string, string> {
    if (!this.#options.token) {
      throw new ProviderError(
        'E_PROVIDER_AUTH',
        this.name,
        'this call needs the `token` option (a GitHub App installation token)',
      );
    }
    return { authorization: `Bearer ${this.#options.token.reveal()}` };
  }

  #org(): string {
    if (!this.#options.org)
      throw new ProviderError('E_PROVIDER_INVALID_REQUEST', this.name, 'this call needs the `org` option');
    return this.#options.org;
  }

  async create(request: CreateKeyRequest): Promise<CreatedKey> {
    const kind = request.options?.kind ?? (isRepository(request.account) ? 'deploy-key' : 'fine-grained-pat');
    if (kind !== 'deploy-key' || !isRepository(request.account)) {
      throw new ProviderError(
        'E_PROVIDER_UNSUPPORTED',
        this.name,
        'GitHub has no API to create personal access tokens; a person creates them in Settings -> Developer settings, so this rotation is a ticket. Deploy keys (account `owner/repo`) can be created.',
      );
    }
    const pair = generateDeployKey(request.name);
    const answer = await this.#http.send({
      method: 'POST',
      path: `/repos/${request.account}/keys`,
      headers: this.#auth(),
      json: { title: request.name, key: pair.publicKey, read_only: !(request.permissions ?? []).includes('write') },
      idempotent: false,
    });
    const key = githubDeployKeySchema.parse(answer.body);
    return {
      providerKeyId: String(key.id),
      account: request.account,
      secret: new SecretValue(pair.privateKey),
      createdAt: key.created_at ? new Date(key.created_at) : this.#context.clock(),
    };
  }

  async *list(options: { account?: string } = {}): AsyncIterable<ProviderKey> {
    if (isRepository(options.account)) {
      yield* this.#listDeployKeys(options.account);
      return;
    }
    yield* this.#listPatGrants(options.account ?? this.#org());
    if (options.account === undefined) {
      for (const repository of this.#options.repositories) yield* this.#listDeployKeys(repository);
    }
  }

  async verify(secret: SecretValue, ref?: ProviderKeyRef): Promise<VerifyResult> {
    if (isOpenSshPrivateKey(secret.reveal())) return this.#verifyDeployKey(secret, ref);
    const answer = await this.#http.send({
      method: 'GET',
      path: '/user',
      headers: { authorization: `Bearer ${secret.reveal()}` },
      accept: [401],
      secrets: [secret],
    });
    if (answer.status === 401) {
      return { valid: false, reason: parseGithubError(answer).message };
    }
    const user = githubUserSchema.parse(answer.body);
    return { valid: true, identity: user.login, ...(ref?.providerKeyId ? { providerKeyId: ref.providerKeyId } : {}) };
  }

  async revoke(ref: ProviderKeyRef): Promise<void> {
    try {
      if (isRepository(ref.account)) {
        await this.#http.send({
          method: 'DELETE',
          path: `/repos/${ref.account}/keys/${ref.providerKeyId}`,
          headers: this.#auth(),
        });
        return;
      }
      await this.#http.send({
        method: 'POST',
        path: `/orgs/${ref.account ?? this.#org()}/personal-access-tokens`,
        headers: this.#auth(),
        json: { action: 'revoke', pat_ids: [Number(ref.providerKeyId)] },
        // Revoking twice has the same effect as once.
        idempotent: true,
      });
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return;
      throw error;
    }
  }

  async lastUsed(ref: ProviderKeyRef): Promise<LastUsed> {
    if (isRepository(ref.account)) {
      const answer = await this.#http.send({
        method: 'GET',
        path: `/repos/${ref.account}/keys/${ref.providerKeyId}`,
        headers: this.#auth(),
      });
      const key = githubDeployKeySchema.parse(answer.body);
      return { at: key.last_used ? new Date(key.last_used) : null };
    }
    for await (const key of this.#listPatGrants(ref.account ?? this.#org())) {
      if (key.providerKeyId === ref.providerKeyId) return { at: key.lastUsedAt ?? null };
    }
    throw new ProviderError(
      'E_PROVIDER_NOT_FOUND',
      this.name,
      `no fine-grained PAT grant ${ref.providerKeyId} in the organisation`,
    );
  }

  async close(): Promise<void> {
    await this.#http.close();
  }

  async *#listPatGrants(org: string): AsyncIterable<ProviderKey> {
    for await (const page of this.#http.paginate({
      method: 'GET',
      path: `/orgs/${org}/personal-access-tokens`,
      query: { per_page: GITHUB_PAGE_SIZE },
      headers: this.#auth(),
    })) {
      for (const item of Array.isArray(page.body) ? page.body : []) {
        const grant = githubPatGrantSchema.parse(item);
        const permissions = Object.values(grant.permissions ?? {}).flatMap((group) =>
          Object.entries(group ?? {}).map(([name, level]) => `${name}:${level}`),
        );
        yield {
          providerKeyId: String(grant.id),
          account: org,
          status: grant.token_expired ? 'expired' : 'active',
          createdBy: grant.owner.login,
          permissions,
          ...(grant.token_name ? { name: grant.token_name } : {}),
          ...(grant.access_granted_at ? { createdAt: new Date(grant.access_granted_at) } : {}),
          ...(grant.token_expires_at ? { expiresAt: new Date(grant.token_expires_at) } : {}),
          ...(grant.token_last_used_at ? { lastUsedAt: new Date(grant.token_last_used_at) } : {}),
        };
      }
    }
  }

  async *#listDeployKeys(repository: string): AsyncIterable<ProviderKey> {
    for await (const page of this.#http.paginate({
      method: 'GET',
      path: `/repos/${repository}/keys`,
      query: { per_page: GITHUB_PAGE_SIZE },
      headers: this.#auth(),
    })) {
      for (const item of Array.isArray(page.body) ? page.body : []) {
        const key = githubDeployKeySchema.parse(item);
        yield {
          providerKeyId: String(key.id),
          account: repository,
          status: 'active',
          permissions: [key.read_only === false ? 'write' : 'read'],
          ...(key.title ? { name: key.title } : {}),
          ...(key.added_by ? { createdBy: key.added_by } : {}),
          ...(key.created_at ? { createdAt: new Date(key.created_at) } : {}),
          ...(key.last_used ? { lastUsedAt: new Date(key.last_used) } : {}),
        };
      }
    }
  }

  /** A deploy key authenticates over SSH, not HTTP: it is valid while its public half is on the repository. */
  async #verifyDeployKey(secret: SecretValue, ref?: ProviderKeyRef): Promise<VerifyResult> {
    const publicKey = publicKeyOfPrivateKey(secret.reveal());
    if (!publicKey) return { valid: false, reason: 'not a readable OpenSSH private key' };
    if (!isRepository(ref?.account)) {
      throw new ProviderError(
        'E_PROVIDER_INVALID_REQUEST',
        this.name,
        'verifying a deploy key needs ref.account (`owner/repo`)',
      );
    }
    for await (const key of this.#http.paginate({
      method: 'GET',
      path: `/repos/${ref.account}/keys`,
      query: { per_page: GITHUB_PAGE_SIZE },
      headers: this.#auth(),
    })) {
      for (const item of Array.isArray(key.body) ? key.body : []) {
        const deployKey = githubDeployKeySchema.parse(item);
        if (normalisePublicKey(deployKey.key) === normalisePublicKey(publicKey)) {
          return { valid: true, identity: ref.account, providerKeyId: String(deployKey.id) };
        }
      }
    }
    return { valid: false, reason: `the key is not a deploy key of ${ref.account}` };
  }
}
