// A local GitHub REST API for what keyledger manages: `GET /user`, the organisation's fine-grained PAT grants
// (list with token_last_used_at, revoke), the credential authorizations of a SAML single sign-on organisation (the
// classic tokens its members authorized, with their login and last access; list, remove), repository deploy keys,
// and the organisation audit log with hashed_token/token_id. Rate limits answer with GitHub's secondary-limit shape
// (403 + Retry-After).
// Simplification: a fine-grained PAT whose organisation access is revoked is refused everywhere (on GitHub it
// keeps reading public resources); the sandbox's only resource owner is the organisation.
import { randomInt, randomUUID } from 'node:crypto';
import { normalisePublicKey } from '../../../providers/github/github-deploy-key.js';
import type { Clock } from '../../../runtime/clock.js';
import { systemClock } from '../../../runtime/clock.js';
import { type GitCommitAuthor, GitHttpHosting, gitHttpPath, gitHttpToken } from '../../git-http-hosting.js';
import { bearerToken } from '../../sandbox-credentials.js';
import { SandboxPathRouter } from '../../sandbox-path-router.js';
import type { SandboxSeed } from '../../sandbox-seed.js';
import type { SandboxAnswer, SandboxProvider, SandboxRequest, SandboxRouteMatch } from '../../sandbox-server.js';
import { type ActionsSecretSpec, GithubActionsSecrets } from './github-actions-secrets.js';
import { generateFineGrainedPat, generateGithubToken, hashedToken } from './github-key-format.js';

const DOCS = 'https://docs.github.com/rest';

export interface GithubSandboxOptions {
  clock?: Clock;
  org?: string;
  /** Repositories of the organisation (names without the owner). */
  repositories?: string[];
  /**
   * Whether the organisation uses SAML single sign-on (default true): only then do its members authorize classic
   * tokens for it, and `GET /orgs/{org}/credential-authorizations` answers (otherwise 404, as for an organisation
   * the caller cannot see).
   */
  samlSingleSignOn?: boolean;
}

interface GithubUser {
  login: string;
  id: number;
  name: string;
  email: string | null;
}

type TokenKind = 'fine-grained-pat' | 'classic-pat' | 'installation';

interface GithubToken {
  kind: TokenKind;
  tokenId: number;
  /** The organisation's grant id (`id` in the PAT list), for fine-grained PATs. */
  grantId?: number;
  /**
   * When a member authorized the classic token for the SAML organisation (`credential_authorized_at`); its
   * `credential_id` is the token's id. Absent for other kinds and in an organisation without SAML.
   */
  authorizedAt?: Date;
  ownerLogin: string;
  name: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revoked: boolean;
  permissions: string[];
}

interface DeployKey {
  id: number;
  key: string;
  title: string;
  readOnly: boolean;
  createdAt: Date;
  addedBy: string;
  lastUsed: Date | null;
}

export interface GithubAuditEntry {
  '@timestamp': number;
  _document_id: string;
  action: string;
  actor: string;
  actor_id: number;
  created_at: number;
  org: string;
  org_id: number;
  repo?: string;
  user?: string;
  /** The acting token, for actions a token performed (absent for grants recorded about a token). */
  hashed_token?: string;
  /** The acting token's id; for `personal_access_token.*` grants, the id of the token concerned. */
  token_id?: number;
  /** Absent for actions taken in the web UI. */
  programmatic_access_type?: string;
  user_agent: string;
  operation_type: string;
  [field: string]: unknown;
}

export class GithubSandbox implements SandboxProvider {
  readonly name = 'github';
  readonly org: string;
  readonly orgId = 9_000_001;
  /** The adapter's credential: an app installation token, as GitHub requires for the org PAT endpoints. */
  readonly installationToken: string;
  readonly #clock: Clock;
  readonly #router = new SandboxPathRouter();
  readonly #users = new Map<string, GithubUser>();
  readonly #tokens = new Map<string, GithubToken>();
  readonly #grants = new Map<number, string>();
  /** Classic tokens authorized for the SAML organisation, by credential id. */
  readonly #credentialAuthorizations = new Map<number, string>();
  readonly #samlSingleSignOn: boolean;
  readonly #repos = new Map<string, DeployKey[]>();
  readonly #audit: GithubAuditEntry[] = [];
  readonly #actionsSecrets = new GithubActionsSecrets();
  /** Every deploy key's public half: GitHub refuses one key on two repositories. */
  readonly #publicKeys = new Set<string>();
  #nextId = 1000;
  /** The repositories' git data, served over smart HTTP (created with the first commit). */
  #git: GitHttpHosting | undefined;
  /** Repositories whose git data answers 404 to every token, as GitHub does for a private repository out of reach. */
  readonly #gitRestricted = new Set<string>();

  constructor(options: GithubSandboxOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.org = options.org ?? 'acme';
    this.#samlSingleSignOn = options.samlSingleSignOn ?? true;
    for (const repo of options.repositories ?? ['api', 'web', 'infra']) this.#repos.set(`${this.org}/${repo}`, []);
    this.#user('keyledger[bot]', 'keyledger', null);
    this.installationToken = generateGithubToken('ghs', Math.random);
    this.#tokens.set(this.installationToken, {
      kind: 'installation',
      tokenId: this.#id(),
      ownerLogin: 'keyledger[bot]',
      name: 'keyledger installation',
      createdAt: this.#clock(),
      expiresAt: null,
      lastUsedAt: null,
      revoked: false,
      permissions: ['organization_personal_access_tokens:write', 'administration:write'],
    });
    const r = this.#router;
    r.add('GET', '/user', 'github:GET /user', (req) => this.#getUser(req));
    r.add('GET', '/orgs/:org/personal-access-tokens', 'github:GET /orgs/{org}/personal-access-tokens', (req, p) =>
      this.#listGrants(req, p.org!),
    );
    r.add('POST', '/orgs/:org/personal-access-tokens', 'github:POST /orgs/{org}/personal-access-tokens', (req, p) =>
      this.#revokeGrants(req, p.org!),
    );
    r.add(
      'POST',
      '/orgs/:org/personal-access-tokens/:pat_id',
      'github:POST /orgs/{org}/personal-access-tokens/{pat_id}',
      (req, p) => this.#revokeGrants(req, p.org!, Number(p.pat_id)),
    );
    r.add('GET', '/orgs/:org/credential-authorizations', 'github:GET /orgs/{org}/credential-authorizations', (req, p) =>
      this.#listCredentialAuthorizations(req, p.org!),
    );
    r.add(
      'DELETE',
      '/orgs/:org/credential-authorizations/:credential_id',
      'github:DELETE /orgs/{org}/credential-authorizations/{credential_id}',
      (req, p) => this.#removeCredentialAuthorization(req, p.org!, Number(p.credential_id)),
    );
    r.add('GET', '/repos/:owner/:repo/keys', 'github:GET /repos/{owner}/{repo}/keys', (req, p) =>
      this.#listKeys(req, `${p.owner}/${p.repo}`),
    );
    r.add('POST', '/repos/:owner/:repo/keys', 'github:POST /repos/{owner}/{repo}/keys', (req, p) =>
      this.#createKey(req, `${p.owner}/${p.repo}`),
    );
    r.add('GET', '/repos/:owner/:repo/keys/:key_id', 'github:GET /repos/{owner}/{repo}/keys/{key_id}', (req, p) =>
      this.#getKey(req, `${p.owner}/${p.repo}`, Number(p.key_id)),
    );
    r.add('DELETE', '/repos/:owner/:repo/keys/:key_id', 'github:DELETE /repos/{owner}/{repo}/keys/{key_id}', (req, p) =>
      this.#deleteKey(req, `${p.owner}/${p.repo}`, Number(p.key_id)),
    );
    r.add('GET', '/orgs/:org/audit-log', 'github:GET /orgs/{org}/audit-log', (req, p) => this.#auditLog(req, p.org!));
    this.#addActionsRoutes(r);
    // git over HTTPS (`https://github.com/acme/api.git/info/refs?service=git-upload-pack`), last: its paths are
    // the owner's and repository's names.
    r.add('GET', '/:owner/:repo/info/refs', 'github:GET git info/refs', (req) => this.#serveGit(req));
    r.add('POST', '/:owner/:repo/git-upload-pack', 'github:POST git-upload-pack', (req) => this.#serveGit(req));
  }

  /**
   * Commits `files` to the organisation's repository `repo` (created if new), as a push would; returns the
   * commit id. The repository is listed by `GET /orgs/{org}/repos` and cloned over HTTP.
   */
  pushCommit(repo: string, files: Record<string, string>, message: string, author: GitCommitAuthor): string {
    const fullName = `${this.org}/${repo}`;
    if (!this.#repos.has(fullName)) this.#repos.set(fullName, []);
    this.#git ??= new GitHttpHosting();
    return this.#git.commit(fullName, files, message, author);
  }

  /** Makes `repo`'s git data answer 404 ("Repository not found."), as for a token without access to it. */
  restrictGit(repo: string): void {
    this.#gitRestricted.add(`${this.org}/${repo}`);
  }

  /** Removes the repositories' git data from disk. */
  removeGitRepositories(): void {
    this.#git?.remove();
    this.#git = undefined;
  }

  /**
   * GitHub takes a token as the password of HTTP Basic auth (user `x-access-token` for an installation token, any
   * user for a PAT) or as a Bearer token; without valid credentials it asks for them (401 + WWW-Authenticate).
   */
  #serveGit(request: SandboxRequest): SandboxAnswer | Promise<SandboxAnswer> {
    const path = gitHttpPath(request.path);
    const credentials = gitHttpToken(request);
    const token = credentials ? this.#tokens.get(credentials.token) : undefined;
    if (!token || token.revoked || (token.expiresAt && token.expiresAt <= this.#clock())) {
      return {
        status: 401,
        headers: { 'www-authenticate': 'Basic realm="GitHub"', 'content-type': 'text/plain' },
        body: 'Invalid username or token. Password authentication is not supported for Git operations.\n',
      };
    }
    token.lastUsedAt = this.#clock();
    if (!path || !this.#git?.has(path.repository) || this.#gitRestricted.has(path.repository)) {
      return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'Repository not found.\n' };
    }
    return this.#git.serve(request, path);
  }

  /** Plants an Actions secret (names and dates only; see github-actions-secrets.ts). */
  addActionsSecret(spec: ActionsSecretSpec): void {
    if (spec.repo && !this.#repos.has(spec.repo)) this.#repos.set(spec.repo, []);
    this.#actionsSecrets.add(spec);
  }

  #addActionsRoutes(r: SandboxPathRouter): void {
    const admin = (request: SandboxRequest, answer: () => SandboxAnswer | undefined): SandboxAnswer => {
      const auth = this.#requireAdmin(request);
      if ('status' in auth) return auth;
      return answer() ?? this.notFound();
    };
    const repo = (p: Record<string, string>) => {
      const name = `${p.owner}/${p.repo}`;
      return this.#repos.has(name) ? name : undefined;
    };
    r.add('GET', '/orgs/:org/repos', 'github:GET /orgs/{org}/repos', (req, p) =>
      admin(req, () =>
        p.org === this.org
          ? this.#page(
              req,
              [...this.#repos.keys()].sort().map((fullName, index) => ({
                id: 500_000 + index,
                name: fullName.slice(fullName.indexOf('/') + 1),
                full_name: fullName,
                private: true,
                owner: { login: this.org, id: this.orgId, type: 'Organization' },
                default_branch: 'main',
                clone_url: `http://${req.headers.host ?? '127.0.0.1'}/${fullName}.git`,
              })),
              `/orgs/${this.org}/repos`,
            )
          : undefined,
      ),
    );
    r.add('GET', '/orgs/:org/actions/secrets', 'github:GET /orgs/{org}/actions/secrets', (req, p) =>
      admin(req, () => (p.org === this.org ? this.#actionsSecrets.orgSecrets(req, this.org) : undefined)),
    );
    r.add('GET', '/repos/:owner/:repo/actions/secrets', 'github:GET /repos/{owner}/{repo}/actions/secrets', (req, p) =>
      admin(req, () => {
        const name = repo(p);
        return name ? this.#actionsSecrets.repoSecrets(req, name) : undefined;
      }),
    );
    r.add('GET', '/repos/:owner/:repo/environments', 'github:GET /repos/{owner}/{repo}/environments', (req, p) =>
      admin(req, () => {
        const name = repo(p);
        return name ? this.#actionsSecrets.environments(req, name) : undefined;
      }),
    );
    r.add(
      'GET',
      '/repos/:owner/:repo/environments/:environment/secrets',
      'github:GET /repos/{owner}/{repo}/environments/{environment_name}/secrets',
      (req, p) =>
        admin(req, () => {
          const name = repo(p);
          return name ? this.#actionsSecrets.environmentSecrets(req, name, p.environment!) : undefined;
        }),
    );
  }

  load(seed: SandboxSeed): void {
    const history: GithubAuditEntry[] = [];
    const logins = new Map<string, string>();
    for (const person of seed.people) {
      this.#user(person.login, person.name, person.email);
      logins.set(person.email, person.login);
    }
    for (const key of seed.keys) {
      if (key.provider !== this.name || key.status === 'revoked') continue;
      // A token's owner is its holder (a machine user) when the seed names one, else its creator.
      const owner = key.holder ?? (key.createdBy ? logins.get(key.createdBy) : undefined) ?? 'ghost';
      if (!this.#users.has(owner)) this.#user(owner, owner, null);
      if (key.kind === 'deploy-key') {
        const keys = this.#repos.get(key.account) ?? [];
        this.#repos.set(key.account, keys);
        keys.push({
          id: Number(key.providerKeyId),
          key: key.publicKey ?? '',
          title: key.name,
          readOnly: !key.permissions.includes('write'),
          createdAt: new Date(key.createdAt),
          addedBy: owner,
          lastUsed: key.lastUsedAt ? new Date(key.lastUsedAt) : null,
        });
        if (key.publicKey) this.#publicKeys.add(normalisePublicKey(key.publicKey));
        history.push(
          this.#historical(key.createdAt, 'public_key.create', owner, {
            repo: key.account,
            title: key.name,
            public_key_id: Number(key.providerKeyId),
          }),
        );
        continue;
      }
      const kind: TokenKind = key.kind === 'classic-pat' ? 'classic-pat' : 'fine-grained-pat';
      const token: GithubToken = {
        kind,
        // A classic token's id is its credential id in the organisation's credential authorizations.
        tokenId: kind === 'classic-pat' ? Number(key.providerKeyId) : this.#id(),
        ownerLogin: owner,
        name: key.name,
        createdAt: new Date(key.createdAt),
        expiresAt: key.expiresAt ? new Date(key.expiresAt) : null,
        lastUsedAt: key.lastUsedAt ? new Date(key.lastUsedAt) : null,
        revoked: key.status === 'inactive',
        permissions: key.permissions,
      };
      if (kind === 'fine-grained-pat') {
        token.grantId = Number(key.providerKeyId);
        this.#grants.set(token.grantId, key.secret);
        // When the organisation let the token in: what ties token_id to its owner in the audit log.
        history.push(
          this.#historical(key.createdAt, 'personal_access_token.access_granted', owner, {
            user: owner,
            token_id: token.tokenId,
            token_name: key.name,
          }),
        );
      } else this.#authorize(token, key.secret, new Date(key.createdAt));
      this.#tokens.set(key.secret, token);
    }
    history.sort((a, b) => a['@timestamp'] - b['@timestamp']);
    this.#audit.unshift(...history);
  }

  #historical(at: string, action: string, actorLogin: string, extra: Record<string, unknown>): GithubAuditEntry {
    const time = Date.parse(at);
    const actor = this.#users.get(actorLogin)!;
    return {
      '@timestamp': time,
      _document_id: randomUUID().replace(/-/g, '').slice(0, 22),
      action,
      actor: actor.login,
      actor_id: actor.id,
      created_at: time,
      org: this.org,
      org_id: this.orgId,
      user_agent: 'Mozilla/5.0 (web UI)',
      operation_type: action.endsWith('delete') || action.endsWith('revoked') ? 'remove' : 'create',
      ...extra,
    };
  }

  /** Plants a token as a person would create it in GitHub's settings (the API cannot). */
  plantToken(
    ownerLogin: string,
    name: string,
    kind: 'fine-grained-pat' | 'classic-pat' = 'fine-grained-pat',
    permissions: string[] = ['contents:read'],
  ) {
    if (!this.#users.has(ownerLogin)) this.#user(ownerLogin, ownerLogin, `${ownerLogin}@example.com`);
    const secret =
      kind === 'fine-grained-pat' ? generateFineGrainedPat(Math.random) : generateGithubToken('ghp', Math.random);
    const token: GithubToken = {
      kind,
      tokenId: this.#id(),
      ownerLogin,
      name,
      createdAt: this.#clock(),
      expiresAt: null,
      lastUsedAt: null,
      revoked: false,
      permissions,
    };
    if (kind === 'fine-grained-pat') {
      token.grantId = this.#id();
      this.#grants.set(token.grantId, secret);
    } else this.#authorize(token, secret, token.createdAt);
    this.#tokens.set(secret, token);
    return { secret, tokenId: token.tokenId, grantId: token.grantId, ownerLogin };
  }

  /** A member authorizes their classic token for the organisation ("Configure SSO" in the token's settings). */
  #authorize(token: GithubToken, secret: string, at: Date): void {
    if (!this.#samlSingleSignOn) return;
    token.authorizedAt = at;
    this.#credentialAuthorizations.set(token.tokenId, secret);
  }

  match(request: SandboxRequest): SandboxRouteMatch | undefined {
    return this.#router.match(request);
  }

  notFound(): SandboxAnswer {
    return this.#error(404, 'Not Found');
  }

  rateLimited(retryAfter: string, status?: number): SandboxAnswer {
    const answer = this.#error(
      status ?? 403,
      'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.',
      `${DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
    );
    answer.headers = { ...answer.headers, 'retry-after': retryAfter };
    return answer;
  }

  failure(status: number, echo?: string): SandboxAnswer {
    return this.#error(status, echo ? `Server Error (token ${echo})` : 'Server Error');
  }

  callerSecret(request: SandboxRequest): string | undefined {
    return bearerToken(request, { orTokenScheme: true });
  }

  /** Limits are per token (GitHub: per user or installation; GitLab: per user), anonymous calls per address. */
  rateLimitKey(request: SandboxRequest): string {
    return bearerToken(request, { orTokenScheme: true }) ?? request.remoteAddress;
  }

  control(request: SandboxRequest, subpath: string): SandboxAnswer | undefined {
    if (request.method === 'POST' && subpath === 'tokens') {
      const input = JSON.parse(request.text || '{}') as {
        owner?: string;
        name?: string;
        kind?: 'fine-grained-pat' | 'classic-pat';
        permissions?: string[];
      };
      return {
        status: 201,
        body: this.plantToken(input.owner ?? 'octocat', input.name ?? 'planted', input.kind, input.permissions),
      };
    }
    if (request.method === 'GET' && subpath === 'installation-token') {
      return { status: 200, body: { token: this.installationToken } };
    }
    return undefined;
  }

  auditLog(): GithubAuditEntry[] {
    return [...this.#audit].reverse();
  }

  groundTruth(): unknown {
    return {
      org: this.org,
      tokens: [...this.#tokens.values()]
        .filter((t) => t.kind !== 'installation')
        .map((t) => ({
          kind: t.kind,
          tokenId: t.tokenId,
          grantId: t.grantId ?? null,
          owner: t.ownerLogin,
          name: t.name,
          revoked: t.revoked,
          lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
        })),
      deployKeys: [...this.#repos.entries()].flatMap(([repo, keys]) =>
        keys.map((k) => ({ repo, id: k.id, title: k.title })),
      ),
    };
  }

  #id(): number {
    this.#nextId += randomInt(1, 7);
    return this.#nextId;
  }

  #user(login: string, name: string, email: string | null): GithubUser {
    const existing = this.#users.get(login);
    if (existing) return existing;
    const user = { login, id: this.#id(), name, email };
    this.#users.set(login, user);
    return user;
  }

  #error(status: number, message: string, documentation = DOCS): SandboxAnswer {
    return {
      status,
      headers: { 'x-github-request-id': randomUUID().toUpperCase(), 'x-github-media-type': 'github.v3; format=json' },
      body: { message, documentation_url: documentation, status: String(status) },
    };
  }

  /** The token of a request, if it authenticates; records its use as GitHub's token_last_used_at does. */
  #authenticate(request: SandboxRequest): GithubToken | SandboxAnswer {
    const secret = bearerToken(request, { orTokenScheme: true });
    if (!secret) return this.#error(401, 'Requires authentication');
    const token = this.#tokens.get(secret);
    const now = this.#clock();
    if (!token || token.revoked || (token.expiresAt && token.expiresAt <= now))
      return this.#error(401, 'Bad credentials');
    token.lastUsedAt = now;
    return token;
  }

  #requireAdmin(request: SandboxRequest, forPats = false): { token: GithubToken; secret: string } | SandboxAnswer {
    const token = this.#authenticate(request);
    if ('status' in token) return token;
    if (forPats && token.kind !== 'installation') {
      return this.#error(403, 'Resource not accessible by personal access token');
    }
    if (token.kind !== 'installation' && !token.permissions.some((p) => /admin/.test(p))) {
      return this.#error(403, 'Resource not accessible by personal access token');
    }
    return { token, secret: bearerToken(request, { orTokenScheme: true })! };
  }

  #page<T>(request: SandboxRequest, items: T[], path: string): SandboxAnswer & { body: T[] } {
    const perPage = Math.min(100, Math.max(1, Number(request.query.get('per_page') ?? 30) || 30));
    const page = Math.max(1, Number(request.query.get('page') ?? 1) || 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    const links: string[] = [];
    const last = Math.max(1, Math.ceil(items.length / perPage));
    // Absolute URLs, as GitHub writes them.
    const base = `http://${request.headers.host ?? '127.0.0.1'}${path}${path.includes('?') ? '&' : '?'}`;
    if (page < last) {
      links.push(
        `<${base}per_page=${perPage}&page=${page + 1}>; rel="next"`,
        `<${base}per_page=${perPage}&page=${last}>; rel="last"`,
      );
    }
    if (links.length) headers.link = links.join(', ');
    return { status: 200, headers, body: slice };
  }

  #getUser(request: SandboxRequest): SandboxAnswer {
    const token = this.#authenticate(request);
    if ('status' in token) return token;
    if (token.kind === 'installation') return this.#error(403, 'Resource not accessible by integration');
    const user = this.#users.get(token.ownerLogin)!;
    return {
      status: 200,
      headers: token.kind === 'classic-pat' ? { 'x-oauth-scopes': token.permissions.join(', ') } : {},
      body: {
        login: user.login,
        id: user.id,
        node_id: Buffer.from(`04:User${user.id}`).toString('base64'),
        type: 'User',
        site_admin: false,
        name: user.name,
        email: user.email,
        html_url: `https://github.com/${user.login}`,
      },
    };
  }

  #listGrants(request: SandboxRequest, org: string): SandboxAnswer {
    const auth = this.#requireAdmin(request, true);
    if ('status' in auth) return auth;
    if (org !== this.org) return this.notFound();
    const grants = [...this.#grants.values()]
      .map((secret) => this.#tokens.get(secret)!)
      .filter((t) => !t.revoked)
      .map((t) => {
        const owner = this.#users.get(t.ownerLogin)!;
        return {
          id: t.grantId,
          owner: { login: owner.login, id: owner.id, type: 'User', site_admin: false },
          repository_selection: 'all',
          repositories_url: `/organizations/${this.orgId}/personal-access-token-requests/${t.grantId}/repositories`,
          permissions: permissionsObject(t.permissions),
          access_granted_at: t.createdAt.toISOString(),
          token_id: t.tokenId,
          token_name: t.name,
          token_expired: t.expiresAt !== null && t.expiresAt <= this.#clock(),
          token_expires_at: t.expiresAt?.toISOString() ?? null,
          token_last_used_at: t.lastUsedAt?.toISOString() ?? null,
        };
      });
    return this.#page(request, grants, `/orgs/${org}/personal-access-tokens`);
  }

  /**
   * `GET /orgs/{org}/credential-authorizations` (GitHub Enterprise Cloud, "List SAML SSO authorizations for an
   * organization"): each credential a member authorized for the organisation — here classic tokens — with the
   * member's `login`, `credential_id`, `credential_type`, `token_last_eight`, `scopes`, `credential_authorized_at`
   * and `credential_accessed_at` (null when never used). Paged by `per_page` (at most 100) and `page` with a Link
   * header; `login` keeps one member's. An organisation without SAML single sign-on answers 404.
   */
  #listCredentialAuthorizations(request: SandboxRequest, org: string): SandboxAnswer {
    const auth = this.#requireAdmin(request);
    if ('status' in auth) return auth;
    if (org !== this.org || !this.#samlSingleSignOn) return this.notFound();
    const login = request.query.get('login');
    const authorizations = [...this.#credentialAuthorizations.entries()]
      .sort(([a], [b]) => a - b)
      .map(([credentialId, secret]) => ({ credentialId, secret, token: this.#tokens.get(secret)! }))
      .filter(({ token }) => !token.revoked && (login === null || token.ownerLogin === login))
      .map(({ credentialId, secret, token }) => ({
        login: token.ownerLogin,
        credential_id: credentialId,
        credential_type: 'personal access token',
        token_last_eight: secret.slice(-8),
        credential_authorized_at: (token.authorizedAt ?? token.createdAt).toISOString(),
        scopes: token.permissions,
        credential_accessed_at: token.lastUsedAt?.toISOString() ?? null,
        authorized_credential_id: credentialId,
        authorized_credential_note: token.name,
        authorized_credential_expires_at: token.expiresAt?.toISOString() ?? null,
      }));
    const query = login === null ? '' : `?login=${encodeURIComponent(login)}`;
    return this.#page(request, authorizations, `/orgs/${org}/credential-authorizations${query}`);
  }

  /**
   * `DELETE /orgs/{org}/credential-authorizations/{credential_id}`: the member's token loses its access to the
   * organisation (204); an unknown or already removed credential is 404. Simplification: the sandbox's only
   * resource owner is the organisation, so the token is refused everywhere afterwards.
   */
  #removeCredentialAuthorization(request: SandboxRequest, org: string, credentialId: number): SandboxAnswer {
    const auth = this.#requireAdmin(request);
    if ('status' in auth) return auth;
    if (org !== this.org || !this.#samlSingleSignOn) return this.notFound();
    const secret = this.#credentialAuthorizations.get(credentialId);
    const token = secret === undefined ? undefined : this.#tokens.get(secret);
    if (!token || token.revoked) return this.notFound();
    token.revoked = true;
    this.#record(auth, 'org_credential_authorization.deauthorize', 'remove', request, {
      user: token.ownerLogin,
      credential_id: credentialId,
    });
    return { status: 204 };
  }

  #revokeGrants(request: SandboxRequest, org: string, single?: number): SandboxAnswer {
    const auth = this.#requireAdmin(request, true);
    if ('status' in auth) return auth;
    if (org !== this.org) return this.notFound();
    let body: { action?: string; pat_ids?: unknown };
    try {
      body = JSON.parse(request.text || '{}') as typeof body;
    } catch {
      return this.#error(400, 'Problems parsing JSON');
    }
    const ids = single !== undefined ? [single] : body.pat_ids;
    if (
      body.action !== 'revoke' ||
      !Array.isArray(ids) ||
      ids.length === 0 ||
      !ids.every((id) => Number.isInteger(id))
    ) {
      return { ...this.#error(422, 'Invalid request.\n\n"action" must be "revoke" and "pat_ids" a list of integers.') };
    }
    const secrets = (ids as number[]).map((id) => this.#grants.get(id));
    if (secrets.some((secret) => secret === undefined || this.#tokens.get(secret)?.revoked)) return this.notFound();
    for (const secret of secrets) {
      const token = this.#tokens.get(secret!)!;
      token.revoked = true;
      this.#record(auth, 'personal_access_token.access_revoked', 'remove', request, {
        user: token.ownerLogin,
        token_name: token.name,
      });
    }
    return single !== undefined ? { status: 204 } : { status: 202, body: {} };
  }

  #repo(repo: string): DeployKey[] | undefined {
    return this.#repos.get(repo);
  }

  #deployKeyJson(repo: string, key: DeployKey) {
    return {
      id: key.id,
      key: key.key,
      url: `https://api.github.com/repos/${repo}/keys/${key.id}`,
      title: key.title,
      verified: true,
      created_at: key.createdAt.toISOString(),
      read_only: key.readOnly,
      added_by: key.addedBy,
      last_used: key.lastUsed?.toISOString() ?? null,
      enabled: true,
    };
  }

  #listKeys(request: SandboxRequest, repo: string): SandboxAnswer {
    const auth = this.#requireAdmin(request);
    if ('status' in auth) return auth;
    const keys = this.#repo(repo);
    if (!keys) return this.notFound();
    return this.#page(
      request,
      keys.map((key) => this.#deployKeyJson(repo, key)),
      `/repos/${repo}/keys`,
    );
  }

  #getKey(request: SandboxRequest, repo: string, id: number): SandboxAnswer {
    const auth = this.#requireAdmin(request);
    if ('status' in auth) return auth;
    const key = this.#repo(repo)?.find((k) => k.id === id);
    return key ? { status: 200, body: this.#deployKeyJson(repo, key) } : this.notFound();
  }

  #createKey(request: SandboxRequest, repo: string): SandboxAnswer {
    const auth = this.#requireAdmin(request);
    if ('status' in auth) return auth;
    const keys = this.#repo(repo);
    if (!keys) return this.notFound();
    let body: { title?: string; key?: string; read_only?: boolean };
    try {
      body = JSON.parse(request.text || '{}') as typeof body;
    } catch {
      return this.#error(400, 'Problems parsing JSON');
    }
    const invalid = (field: string, code: string, message?: string): SandboxAnswer => ({
      ...this.#error(422, 'Validation Failed'),
      body: {
        message: 'Validation Failed',
        errors: [{ resource: 'PublicKey', code, field, ...(message ? { message } : {}) }],
        documentation_url: `${DOCS}/deploy-keys/deploy-keys#create-a-deploy-key`,
        status: '422',
      },
    });
    if (!body.key) return invalid('key', 'missing_field');
    if (!/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256) [A-Za-z0-9+/=]+/.test(body.key))
      return invalid('key', 'custom', 'key is invalid. You must supply a key in OpenSSH public key format');
    const normalised = normalisePublicKey(body.key);
    if (this.#publicKeys.has(normalised)) return invalid('key', 'custom', 'key is already in use');
    this.#publicKeys.add(normalised);
    const key: DeployKey = {
      id: this.#id(),
      key: normalised,
      title: body.title ?? '',
      readOnly: body.read_only ?? true,
      createdAt: this.#clock(),
      addedBy: auth.token.ownerLogin,
      lastUsed: null,
    };
    keys.push(key);
    this.#record(auth, 'public_key.create', 'create', request, { repo, title: key.title, public_key_id: key.id });
    return { status: 201, body: this.#deployKeyJson(repo, key) };
  }

  #deleteKey(request: SandboxRequest, repo: string, id: number): SandboxAnswer {
    const auth = this.#requireAdmin(request);
    if ('status' in auth) return auth;
    const keys = this.#repo(repo);
    const index = keys?.findIndex((k) => k.id === id) ?? -1;
    if (!keys || index < 0) return this.notFound();
    const [key] = keys.splice(index, 1);
    this.#publicKeys.delete(normalisePublicKey(key!.key));
    this.#record(auth, 'public_key.delete', 'remove', request, { repo, title: key!.title, public_key_id: id });
    return { status: 204 };
  }

  #auditLog(request: SandboxRequest, org: string): SandboxAnswer {
    const auth = this.#requireAdmin(request);
    if ('status' in auth) return auth;
    if (org !== this.org) return this.notFound();
    return this.#page(request, this.auditLog(), `/orgs/${org}/audit-log`);
  }

  #record(
    auth: { token: GithubToken; secret: string },
    action: string,
    operationType: string,
    request: SandboxRequest,
    extra: Record<string, unknown>,
  ): void {
    const at = this.#clock().getTime();
    const actor = this.#users.get(auth.token.ownerLogin)!;
    this.#audit.push({
      '@timestamp': at,
      _document_id: randomUUID().replace(/-/g, '').slice(0, 22),
      action,
      actor: actor.login,
      actor_id: actor.id,
      created_at: at,
      org: this.org,
      org_id: this.orgId,
      hashed_token: hashedToken(auth.secret),
      token_id: auth.token.tokenId,
      programmatic_access_type:
        auth.token.kind === 'installation'
          ? 'GitHub App server-to-server token'
          : auth.token.kind === 'fine-grained-pat'
            ? 'Fine-grained personal access token'
            : 'Personal access token (classic)',
      user_agent: String(request.headers['user-agent'] ?? ''),
      operation_type: operationType,
      ...extra,
    });
  }
}

/** `contents:read` style permissions as GitHub's grant object groups them. */
function permissionsObject(permissions: string[]) {
  const repository: Record<string, string> = {};
  const organization: Record<string, string> = {};
  for (const permission of permissions) {
    const [name, level] = permission.split(':');
    if (!name || !level) continue;
    if (/^(members|administration_org|organization_)/.test(name)) organization[name] = level;
    else repository[name] = level;
  }
  return { organization, repository, other: {} };
}
