// The GitLab adapter: project, group and personal access tokens — create, list, revoke, last used, native rotate
// (`POST .../{token_id}/rotate`, which issues a new token and revokes the old at once) — and verify through
// `GET /personal_access_tokens/self`, which works for every kind because project and group tokens belong to bots.

import { ProviderError } from '../../errors/provider-error.js';
import { SecretValue } from '../../secrets/secret-value.js';
import { type HttpAnswer, type ProviderErrorBody, ProviderHttpClient } from '../http/provider-http-client.js';
import type { CreatedKey, CreateKeyRequest, LastUsed, ProviderKey, ProviderKeyRef, VerifyResult } from '../provider.js';
import { ProviderAdapter } from '../provider-adapter.js';
import type { ProviderContext } from '../provider-context.js';
import type { GitHttpCredentials, HostedRepository, RepositoryHost } from '../repository-host.js';
import { GITLAB_API_PREFIX, GITLAB_DEFAULT_LIFETIME_DAYS, GITLAB_PAGE_SIZE } from './gitlab-constants.js';
import {
  type GitlabAccount,
  type GitlabOptions,
  type GitlabOptionsInput,
  type GitlabToken,
  gitlabAccountSchema,
  gitlabErrorSchema,
  gitlabOptionsSchema,
  gitlabProjectSchema,
  gitlabTokenSchema,
  gitlabUserSchema,
} from './gitlab-schemas.js';
import { gitlabProviderRegistration } from './index.js';

/** GitLab answers errors as `{message: "404 Project Not Found"}`, `{error: "name is missing"}` or `{message: {field: [...]}}`. */
export function parseGitlabError(answer: HttpAnswer): ProviderErrorBody {
  const parsed = gitlabErrorSchema.safeParse(answer.body);
  if (!parsed.success) return { message: answer.text.trim() || `HTTP ${answer.status}` };
  const { message, error, error_description } = parsed.data;
  if (typeof message === 'string') return { message };
  if (message && typeof message === 'object') {
    const text = Object.entries(message as Record<string, unknown>)
      .map(([field, problems]) => `${field} ${Array.isArray(problems) ? problems.join(', ') : String(problems)}`)
      .join('; ');
    return { message: text };
  }
  return {
    message: error_description ?? error ?? (answer.text.trim() || `HTTP ${answer.status}`),
    ...(error ? { providerCode: error } : {}),
  };
}

export class GitlabProvider extends ProviderAdapter implements RepositoryHost {
  readonly #options: GitlabOptions;
  readonly #context: ProviderContext;
  readonly #http: ProviderHttpClient;

  constructor(options: GitlabOptionsInput | GitlabOptions, context: ProviderContext) {
    const parsed = gitlabOptionsSchema.parse(options);
    super(gitlabProviderRegistration, parsed, context);
    this.#options = parsed;
    this.#context = context;
    const rateLimiter = this.rateLimiter();
    this.#http = new ProviderHttpClient(
      {
        provider: this.name,
        baseUrl: `${this.#options.baseUrl.replace(/\/+$/, '')}${GITLAB_API_PREFIX}`,
        timeoutMs: this.#options.timeoutMs,
        retry: this.#options.retry,
        parseError: parseGitlabError,
        ...(rateLimiter ? { rateLimiter } : {}),
        headers: () => ({ 'user-agent': 'keyledger' }),
        ...(this.#options.token ? { secrets: [this.#options.token] } : {}),
      },
      this.retryContext,
    );
  }

  #auth(): Record<string, string> {
    if (!this.#options.token) {
      throw new ProviderError(
        'E_PROVIDER_AUTH',
        this.name,
        "this call needs the `token` option (an administrator's access token)",
      );
    }
    return { 'private-token': this.#options.token.reveal() };
  }

  async create(request: CreateKeyRequest): Promise<CreatedKey> {
    const account = this.#account(request.account);
    const expiresAt =
      request.expiresAt ?? new Date(this.#context.clock().getTime() + GITLAB_DEFAULT_LIFETIME_DAYS * 86_400_000);
    const path =
      account.type === 'user' ? `/users/${account.id}/personal_access_tokens` : `${this.#collection(account)}`;
    const answer = await this.#http.send({
      method: 'POST',
      path,
      headers: this.#auth(),
      json: {
        name: request.name,
        scopes: request.permissions?.length ? request.permissions : ['read_api'],
        expires_at: expiresAt.toISOString().slice(0, 10),
        ...(account.type !== 'user'
          ? { access_level: Number(request.options?.access_level ?? this.#options.accessLevel) }
          : {}),
      },
      idempotent: false,
    });
    return this.#created(gitlabTokenSchema.parse(answer.body), request.account!);
  }

  async *list(options: { account?: string } = {}): AsyncIterable<ProviderKey> {
    if (options.account === undefined) {
      // An administrator's list holds every token of the instance, bots' (project and group tokens) included. Each
      // names only its user's id; the users API tells a bot from a person, so a bot's token is held by the bot
      // (its username), not by a user that could be a person (src/audit/key-category.ts reads `holder`).
      const bots = await this.#botUsernames();
      yield* this.#listPath(
        '/personal_access_tokens',
        {},
        (token) => `user:${token.user_id ?? ''}`,
        (token) => (token.user_id !== undefined ? bots.get(token.user_id) : undefined),
      );
      return;
    }
    const account = this.#account(options.account);
    if (account.type === 'user') {
      yield* this.#listPath('/personal_access_tokens', { user_id: account.id }, () => options.account!);
      return;
    }
    yield* this.#listPath(this.#collection(account), {}, () => options.account!);
  }

  async verify(secret: SecretValue): Promise<VerifyResult> {
    const answer = await this.#http.send({
      method: 'GET',
      path: '/personal_access_tokens/self',
      headers: { 'private-token': secret.reveal() },
      accept: [401],
      secrets: [secret],
    });
    if (answer.status === 401) return { valid: false, reason: parseGitlabError(answer).message };
    const token = gitlabTokenSchema.parse(answer.body);
    if (token.active === false || token.revoked) return { valid: false, reason: 'the token is revoked or expired' };
    return {
      valid: true,
      providerKeyId: String(token.id),
      ...(token.user_id !== undefined ? { identity: `user:${token.user_id}` } : {}),
    };
  }

  async revoke(ref: ProviderKeyRef): Promise<void> {
    try {
      await this.#http.send({ method: 'DELETE', path: this.#tokenPath(ref), headers: this.#auth() });
    } catch (error) {
      // Unknown, or already revoked (GitLab answers 400 for a second revoke): either way the token is gone.
      if (
        error instanceof ProviderError &&
        (error.code === 'E_PROVIDER_NOT_FOUND' || (error.status === 400 && /revoked/i.test(error.message)))
      ) {
        return;
      }
      throw error;
    }
  }

  async lastUsed(ref: ProviderKeyRef): Promise<LastUsed> {
    const answer = await this.#http.send({ method: 'GET', path: this.#tokenPath(ref), headers: this.#auth() });
    const token = gitlabTokenSchema.parse(answer.body);
    return { at: token.last_used_at ? new Date(token.last_used_at) : null };
  }

  /** GitLab's native rotation: a new token (new id) with the same name and scopes; the old one is revoked at once. */
  async rotate(ref: ProviderKeyRef): Promise<CreatedKey> {
    const answer = await this.#http.send({
      method: 'POST',
      path: `${this.#tokenPath(ref)}/rotate`,
      headers: this.#auth(),
      idempotent: false,
    });
    return this.#created(gitlabTokenSchema.parse(answer.body), ref.account ?? '');
  }

  async close(): Promise<void> {
    await this.#http.close();
  }

  #account(account: string | undefined): GitlabAccount {
    const parsed = gitlabAccountSchema.safeParse(account);
    if (!parsed.success) {
      throw new ProviderError(
        'E_PROVIDER_INVALID_REQUEST',
        this.name,
        `account must be project:<id>, group:<id> or user:<id>${account ? `, not ${account}` : ''}`,
      );
    }
    return parsed.data;
  }

  #collection(account: GitlabAccount): string {
    return `/${account.type === 'project' ? 'projects' : 'groups'}/${encodeURIComponent(account.id)}/access_tokens`;
  }

  #tokenPath(ref: ProviderKeyRef): string {
    const account = ref.account ? this.#account(ref.account) : undefined;
    if (!account || account.type === 'user') return `/personal_access_tokens/${encodeURIComponent(ref.providerKeyId)}`;
    return `${this.#collection(account)}/${encodeURIComponent(ref.providerKeyId)}`;
  }

  #created(token: GitlabToken, account: string): CreatedKey {
    if (!token.token) throw new ProviderError('E_PROVIDER', this.name, 'GitLab answered without the new token');
    return {
      providerKeyId: String(token.id),
      account,
      secret: new SecretValue(token.token),
      createdAt: token.created_at ? new Date(token.created_at) : this.#context.clock(),
      ...(token.expires_at ? { expiresAt: new Date(`${token.expires_at}T00:00:00Z`) } : {}),
    };
  }

  /**
   * The group's projects and its subgroups' (`GET /groups/:id/projects?include_subgroups=true`, the group by its
   * full path), every page; archived projects are included, since old leaks stay in them.
   */
  async *listRepositories(group: string): AsyncIterable<HostedRepository> {
    for await (const page of this.#http.paginate({
      method: 'GET',
      path: `/groups/${encodeURIComponent(group)}/projects`,
      query: { include_subgroups: 'true', per_page: GITLAB_PAGE_SIZE },
      headers: this.#auth(),
    })) {
      for (const item of Array.isArray(page.body) ? page.body : []) {
        const project = gitlabProjectSchema.parse(item);
        yield { name: project.path_with_namespace, cloneUrl: project.http_url_to_repo };
      }
    }
  }

  /** git over HTTPS takes a personal access token as the password of user `oauth2`. */
  gitCredentials(): GitHttpCredentials | undefined {
    return this.#options.token ? { username: 'oauth2', password: this.#options.token } : undefined;
  }

  /**
   * The instance's bot and internal users by id (`GET /users?exclude_humans=true`, administrators see every one):
   * GitLab makes a bot user for each project and group access token, and documents this filter as "only bot or
   * internal users".
   */
  async #botUsernames(): Promise<Map<number, string>> {
    const bots = new Map<number, string>();
    for await (const page of this.#http.paginate({
      method: 'GET',
      path: '/users',
      query: { exclude_humans: 'true', per_page: GITLAB_PAGE_SIZE },
      headers: this.#auth(),
    })) {
      for (const item of Array.isArray(page.body) ? page.body : []) {
        const user = gitlabUserSchema.parse(item);
        // `bot` is on the user object GitLab answers; a user that says it is not a bot is never taken for one.
        if (user.bot !== false) bots.set(user.id, user.username);
      }
    }
    return bots;
  }

  async *#listPath(
    path: string,
    query: Record<string, string>,
    accountOf: (token: GitlabToken) => string,
    holderOf: (token: GitlabToken) => string | undefined = () => undefined,
  ): AsyncIterable<ProviderKey> {
    for await (const page of this.#http.paginate({
      method: 'GET',
      path,
      query: { ...query, per_page: GITLAB_PAGE_SIZE },
      headers: this.#auth(),
    })) {
      for (const item of Array.isArray(page.body) ? page.body : []) {
        const token = gitlabTokenSchema.parse(item);
        const holder = holderOf(token);
        yield {
          providerKeyId: String(token.id),
          account: accountOf(token),
          ...(holder ? { holder } : {}),
          name: token.name,
          status: token.revoked ? 'revoked' : token.active === false ? 'expired' : 'active',
          permissions: token.scopes ?? [],
          ...(token.created_at ? { createdAt: new Date(token.created_at) } : {}),
          ...(token.expires_at ? { expiresAt: new Date(`${token.expires_at}T00:00:00Z`) } : {}),
          ...(token.last_used_at ? { lastUsedAt: new Date(token.last_used_at) } : {}),
        };
      }
    }
  }
}
