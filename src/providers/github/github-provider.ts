// The GitHub adapter, on the official SDK (@octokit/rest): deploy keys (repos.createDeployKey, listDeployKeys,
// getDeployKey, deleteDeployKey; the adapter mints the SSH key pair), the organisation's fine-grained PAT grants
// (orgs.listPatGrants with token_last_used_at, orgs.updatePatAccesses to revoke), the classic tokens members
// authorized for a SAML single sign-on organisation (`GET /orgs/{org}/credential-authorizations`, a GitHub
// Enterprise Cloud route the SDK's endpoint table lacks, sent as a route string; removed with its DELETE), and verify through
// users.getAuthenticated (`GET /user`) sent with the key itself. PATs cannot be created by API (capabilities().kinds
// says so): rotating one is a ticket for its owner. Lists follow GitHub's Link header with octokit.paginate.iterator.
// @octokit/rest carries no retry or throttling plugin, so the SDK never retries: our SdkCaller paces, retries
// (429/Retry-After, GitHub's 403 secondary limit and x-ratelimit-reset, 5xx, transport failures of idempotent calls)
// and maps each RequestError's answer through parseGithubError. The SDK's fetch is undici's, on an agent of our
// own (closed in close()), with a per-attempt timeout of `timeoutMs` covering the answer's body too.

import { RequestError } from '@octokit/request-error';
import { Octokit } from '@octokit/rest';
import { Agent, Response as UndiciResponse, fetch as undiciFetch } from 'undici';
import { ProviderError } from '../../errors/provider-error.js';
import { redactSecrets } from '../../runtime/secret-redaction.js';
import { SecretValue } from '../../secrets/secret-value.js';
import { type HttpAnswer, headerText, type ProviderErrorBody } from '../http/provider-http-client.js';
import { type SdkCaller, sdkAnswer } from '../http/sdk-caller.js';
import type { CreatedKey, CreateKeyRequest, LastUsed, ProviderKey, ProviderKeyRef, VerifyResult } from '../provider.js';
import { ProviderAdapter } from '../provider-adapter.js';
import type { ProviderContext } from '../provider-context.js';
import type { GitHttpCredentials, HostedRepository, RepositoryHost } from '../repository-host.js';
import { GITHUB_API_VERSION, GITHUB_PAGE_SIZE } from './github-constants.js';
import {
  generateDeployKey,
  isOpenSshPrivateKey,
  normalisePublicKey,
  publicKeyOfPrivateKey,
} from './github-deploy-key.js';
import {
  type GithubOptions,
  type GithubOptionsInput,
  githubCredentialAuthorizationSchema,
  githubDeployKeySchema,
  githubErrorSchema,
  githubOptionsSchema,
  githubPatGrantSchema,
  githubRepositorySchema,
  githubUserSchema,
} from './github-schemas.js';
import { githubProviderRegistration } from './index.js';

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

/** The answer inside what Octokit threw: a RequestError with a response (one without is a transport failure). */
function githubAnswerOf(error: unknown): HttpAnswer | undefined {
  if (!(error instanceof RequestError) || !error.response) return undefined;
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(error.response.headers)) {
    headers[name] = value === undefined ? undefined : String(value);
  }
  return sdkAnswer(error.status, headers, error.response.data);
}

/** `owner/repo` as the SDK's path parameters. */
function repositoryParams(account: string): { owner: string; repo: string } {
  const slash = account.indexOf('/');
  return { owner: account.slice(0, slash), repo: account.slice(slash + 1) };
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);
const silentLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/**
 * The fetch the SDK sends with: undici's on our agent, aborted after `timeoutMs`. It reads the body before
 * answering, so a body cut off or timed out fails the fetch (a transport failure the SdkCaller retries) instead of
 * reaching the SDK, which would read it as an empty answer.
 */
function timedFetch(agent: Agent, timeoutMs: number): typeof globalThis.fetch {
  const send = async (url: string | URL, init: RequestInit = {}): Promise<UndiciResponse> => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    const response = await undiciFetch(url, {
      ...(init as Parameters<typeof undiciFetch>[1]),
      signal,
      dispatcher: agent,
    });
    const body = NULL_BODY_STATUSES.has(response.status) ? null : await response.arrayBuffer();
    return new UndiciResponse(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
  return send as unknown as typeof globalThis.fetch;
}

export class GithubProvider extends ProviderAdapter implements RepositoryHost {
  readonly #options: GithubOptions;
  readonly #context: ProviderContext;
  readonly #agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  readonly #caller: SdkCaller;
  /** The SDK client with the adapter's installation token; absent without the `token` option. */
  readonly #adminClient: Octokit | undefined;
  /** The SDK client without credentials: verify() sends the key under test on each call. */
  readonly #anonymous: Octokit;

  constructor(options: GithubOptionsInput | GithubOptions, context: ProviderContext) {
    const parsed = githubOptionsSchema.parse(options);
    super(githubProviderRegistration, parsed, context);
    this.#options = parsed;
    this.#context = context;
    this.#caller = this.sdkCaller({
      answerOf: githubAnswerOf,
      parseError: parseGithubError,
      ...(this.#options.token ? { secrets: [this.#options.token] } : {}),
      limitConcurrency: true,
    });
    this.#adminClient = this.#options.token ? this.#octokit(this.#options.token.reveal()) : undefined;
    this.#anonymous = this.#octokit();
  }

  /** An SDK client on the base URL, with our fetch (timeout, agent) and no retries (@octokit/rest has none). */
  #octokit(auth?: string): Octokit {
    const octokit = new Octokit({
      baseUrl: this.#options.baseUrl.replace(/\/+$/, ''),
      ...(auth ? { auth } : {}),
      userAgent: 'keyledger',
      request: { fetch: timedFetch(this.#agent, this.#options.timeoutMs) },
      // Failures are reported as ProviderErrors; the SDK's request log would print each one to the console.
      log: silentLog,
    });
    octokit.hook.before('request', (request) => {
      request.headers['x-github-api-version'] = GITHUB_API_VERSION;
    });
    return octokit;
  }

  /** The client with the adapter's installation token; verify() alone works without it. */
  get #admin(): Octokit {
    if (!this.#adminClient) {
      throw new ProviderError(
        'E_PROVIDER_AUTH',
        this.name,
        'this call needs the `token` option (a GitHub App installation token)',
      );
    }
    return this.#adminClient;
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
    const admin = this.#admin;
    const pair = generateDeployKey(request.name);
    const { data } = await this.#caller.call({ idempotent: false }, () =>
      admin.rest.repos.createDeployKey({
        ...repositoryParams(request.account!),
        title: request.name,
        key: pair.publicKey,
        read_only: !(request.permissions ?? []).includes('write'),
      }),
    );
    const key = githubDeployKeySchema.parse(data);
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
    yield* this.#listCredentialAuthorizations(options.account ?? this.#org());
    if (options.account === undefined) {
      for (const repository of this.#options.repositories) yield* this.#listDeployKeys(repository);
    }
  }

  async verify(secret: SecretValue, ref?: ProviderKeyRef): Promise<VerifyResult> {
    if (isOpenSshPrivateKey(secret.reveal())) return this.#verifyDeployKey(secret, ref);
    const outcome = await this.#caller.call({ idempotent: true, secrets: [secret] }, async () => {
      try {
        const { data } = await this.#anonymous.rest.users.getAuthenticated({
          headers: { authorization: `Bearer ${secret.reveal()}` },
        });
        return { user: githubUserSchema.parse(data) };
      } catch (error) {
        // 401 is verify's answer (the key does not authenticate), not a failure to retry or raise.
        const answer = githubAnswerOf(error);
        if (answer && answer.status === 401) return { refused: answer };
        throw error;
      }
    });
    if (outcome.refused) {
      return { valid: false, reason: redactSecrets(parseGithubError(outcome.refused).message, [secret]) };
    }
    return {
      valid: true,
      identity: outcome.user.login,
      ...(ref?.providerKeyId ? { providerKeyId: ref.providerKeyId } : {}),
    };
  }

  async revoke(ref: ProviderKeyRef): Promise<void> {
    try {
      const admin = this.#admin;
      if (isRepository(ref.account)) {
        const repository = repositoryParams(ref.account);
        await this.#caller.call({ idempotent: true }, () =>
          admin.rest.repos.deleteDeployKey({ ...repository, key_id: Number(ref.providerKeyId) }),
        );
        return;
      }
      const org = ref.account ?? this.#org();
      // Revoking twice has the same effect as once. An id the PAT grants do not know may be a classic token's
      // credential authorization: removing it takes the token's access to the organisation away.
      try {
        await this.#caller.call({ idempotent: true }, () =>
          admin.rest.orgs.updatePatAccesses({ org, action: 'revoke', pat_ids: [Number(ref.providerKeyId)] }),
        );
      } catch (error) {
        if (!(error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND')) throw error;
        await this.#caller.call({ idempotent: true }, () =>
          admin.request('DELETE /orgs/{org}/credential-authorizations/{credential_id}', {
            org,
            credential_id: Number(ref.providerKeyId),
          }),
        );
      }
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return;
      throw error;
    }
  }

  async lastUsed(ref: ProviderKeyRef): Promise<LastUsed> {
    if (isRepository(ref.account)) {
      const admin = this.#admin;
      const repository = repositoryParams(ref.account);
      const { data } = await this.#caller.call({ idempotent: true }, () =>
        admin.rest.repos.getDeployKey({ ...repository, key_id: Number(ref.providerKeyId) }),
      );
      const key = githubDeployKeySchema.parse(data);
      return { at: key.last_used ? new Date(key.last_used) : null };
    }
    const org = ref.account ?? this.#org();
    for await (const key of this.#listPatGrants(org)) {
      if (key.providerKeyId === ref.providerKeyId) return { at: key.lastUsedAt ?? null };
    }
    for await (const key of this.#listCredentialAuthorizations(org)) {
      if (key.providerKeyId === ref.providerKeyId) return { at: key.lastUsedAt ?? null };
    }
    throw new ProviderError(
      'E_PROVIDER_NOT_FOUND',
      this.name,
      `no fine-grained PAT grant or classic token credential authorization ${ref.providerKeyId} in the organisation`,
    );
  }

  /** The organisation's repositories (`GET /orgs/{org}/repos`, repos.listForOrg), every page. */
  async *listRepositories(org: string): AsyncIterable<HostedRepository> {
    const admin = this.#admin;
    const pages = admin.paginate.iterator(admin.rest.repos.listForOrg, { org, per_page: GITHUB_PAGE_SIZE });
    for await (const item of this.#items(pages)) {
      const repository = githubRepositorySchema.parse(item);
      yield { name: repository.full_name, cloneUrl: repository.clone_url };
    }
  }

  /** git over HTTPS takes an installation token as the password of user `x-access-token`. */
  gitCredentials(): GitHttpCredentials | undefined {
    return this.#options.token ? { username: 'x-access-token', password: this.#options.token } : undefined;
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  /**
   * The items of every page of a list the SDK pages through (octokit.paginate.iterator follows the Link header).
   * Each page is one paced, retried call: the iterator only moves to the next page once a page has arrived, so a
   * retried `next()` asks for the same page again.
   */
  async *#items(pages: AsyncIterable<{ data: unknown; headers: { link?: string } }>): AsyncIterable<unknown> {
    const iterator = pages[Symbol.asyncIterator]();
    for (;;) {
      const step = await this.#caller.call({ idempotent: true }, () => iterator.next());
      if (step.done) return;
      yield* Array.isArray(step.value.data) ? step.value.data : [];
      // The last page has no `rel="next"`: stop here rather than spend a paced call on the iterator's end.
      if (!/<[^<>]+>;\s*rel="next"/.test(step.value.headers.link ?? '')) return;
    }
  }

  async *#listPatGrants(org: string): AsyncIterable<ProviderKey> {
    const admin = this.#admin;
    const pages = admin.paginate.iterator(admin.rest.orgs.listPatGrants, { org, per_page: GITHUB_PAGE_SIZE });
    for await (const item of this.#items(pages)) {
      const grant = githubPatGrantSchema.parse(item);
      const permissions = Object.values(grant.permissions ?? {}).flatMap((group) =>
        Object.entries(group ?? {}).map(([name, level]) => `${name}:${level}`),
      );
      yield {
        providerKeyId: String(grant.id),
        account: org,
        status: grant.token_expired ? 'expired' : 'active',
        createdBy: grant.owner.login,
        // The token acts as its owner — a person, or a machine user made for a service — not as the organisation.
        holder: grant.owner.login,
        permissions,
        ...(grant.token_name ? { name: grant.token_name } : {}),
        ...(grant.access_granted_at ? { createdAt: new Date(grant.access_granted_at) } : {}),
        ...(grant.token_expires_at ? { expiresAt: new Date(grant.token_expires_at) } : {}),
        ...(grant.token_last_used_at ? { lastUsedAt: new Date(grant.token_last_used_at) } : {}),
      };
    }
  }

  /**
   * The classic tokens members authorized for the organisation's SAML single sign-on, each under its credential id:
   * the only listing of classic tokens GitHub has, and it names the member the token acts as (`login`), so a
   * classic token's holder is known as a fine-grained one's is. SSH keys in the same list are left out (a user's
   * SSH key is not a key keyledger manages). An organisation without SAML single sign-on answers 404: it has no
   * such list, and none is read.
   */
  async *#listCredentialAuthorizations(org: string): AsyncIterable<ProviderKey> {
    const admin = this.#admin;
    const pages = admin.paginate.iterator('GET /orgs/{org}/credential-authorizations', {
      org,
      per_page: GITHUB_PAGE_SIZE,
    });
    const now = this.#context.clock().getTime();
    try {
      for await (const item of this.#items(pages)) {
        const authorization = githubCredentialAuthorizationSchema.parse(item);
        if (!/personal access token/i.test(authorization.credential_type)) continue;
        const expires = authorization.authorized_credential_expires_at
          ? new Date(authorization.authorized_credential_expires_at)
          : undefined;
        yield {
          providerKeyId: String(authorization.credential_id),
          account: org,
          status: expires && expires.getTime() <= now ? 'expired' : 'active',
          createdBy: authorization.login,
          holder: authorization.login,
          permissions: authorization.scopes ?? [],
          createdAt: new Date(authorization.credential_authorized_at),
          ...(authorization.authorized_credential_note ? { name: authorization.authorized_credential_note } : {}),
          ...(expires ? { expiresAt: expires } : {}),
          ...(authorization.credential_accessed_at
            ? { lastUsedAt: new Date(authorization.credential_accessed_at) }
            : {}),
        };
      }
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return;
      throw error;
    }
  }

  #deployKeyPages(repository: string) {
    const admin = this.#admin;
    return admin.paginate.iterator(admin.rest.repos.listDeployKeys, {
      ...repositoryParams(repository),
      per_page: GITHUB_PAGE_SIZE,
    });
  }

  async *#listDeployKeys(repository: string): AsyncIterable<ProviderKey> {
    for await (const item of this.#items(this.#deployKeyPages(repository))) {
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
    for await (const item of this.#items(this.#deployKeyPages(ref.account))) {
      const deployKey = githubDeployKeySchema.parse(item);
      if (normalisePublicKey(deployKey.key) === normalisePublicKey(publicKey)) {
        return { valid: true, identity: ref.account, providerKeyId: String(deployKey.id) };
      }
    }
    return { valid: false, reason: `the key is not a deploy key of ${ref.account}` };
  }
}
