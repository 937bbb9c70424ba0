// A local GitLab REST API (v4) for access tokens: project, group and personal access tokens (create, list, get,
// revoke, native rotate), `GET /personal_access_tokens/self`, last_used_at moving on every authenticated call,
// audit events for token changes, the users API's bot flag (`GET /users/:id`, `GET /users?exclude_humans=true`: each
// project or group token belongs to a bot user), and GitLab's 429 "Retry later" with Retry-After.
import type { Clock } from '../../../runtime/clock.js';
import { systemClock } from '../../../runtime/clock.js';
import { type GitCommitAuthor, GitHttpHosting, gitHttpPath, gitHttpToken } from '../../git-http-hosting.js';
import { SandboxPathRouter } from '../../sandbox-path-router.js';
import type { SandboxSeed } from '../../sandbox-seed.js';
import type { SandboxAnswer, SandboxProvider, SandboxRequest, SandboxRouteMatch } from '../../sandbox-server.js';
import { generateGitlabToken } from './gitlab-key-format.js';

const API = '/api/v4';
const ADMIN_USER_ID = 1;
const ROTATED_LIFETIME_DAYS = 7;

export interface GitlabSandboxOptions {
  clock?: Clock;
  projects?: number[];
  groups?: number[];
}

type OwnerType = 'project' | 'group' | 'user';

interface GitlabUser {
  id: number;
  username: string;
  name: string;
  admin: boolean;
  bot: boolean;
}

interface GitlabToken {
  id: number;
  name: string;
  scopes: string[];
  userId: number;
  ownerType: OwnerType;
  ownerId: number;
  accessLevel?: number;
  createdAt: Date;
  expiresAt: string | null;
  lastUsedAt: Date | null;
  revoked: boolean;
  /** When it was revoked (ground truth only: GitLab's API says `revoked`, not when). */
  revokedAt?: Date;
  secret: string;
}

export interface GitlabAuditEvent {
  id: number;
  author_id: number;
  entity_id: number;
  entity_type: 'Project' | 'Group' | 'User';
  event_name: string;
  details: {
    custom_message: string;
    author_name: string;
    author_class: string;
    target_id: number;
    target_type: string;
    target_details: string;
    ip_address: string;
    entity_path: string;
  };
  created_at: string;
}

export class GitlabSandbox implements SandboxProvider {
  readonly name = 'gitlab';
  /** The adapter's credential: a personal access token of an administrator. */
  readonly adminToken: string;
  readonly #clock: Clock;
  readonly #router = new SandboxPathRouter();
  readonly #users = new Map<number, GitlabUser>();
  readonly #tokensById = new Map<number, GitlabToken>();
  readonly #tokensBySecret = new Map<string, GitlabToken>();
  readonly #projects = new Set<number>();
  readonly #groups = new Set<number>();
  /** `project:<id>` or `group:<id>` -> CI/CD variables, as the variables API lists them. */
  readonly #variables = new Map<string, Array<Record<string, unknown>>>();
  readonly #audit: GitlabAuditEvent[] = [];
  #nextTokenId = 1;
  #nextUserId = 2;
  #nextBotId = 1_000_000;
  #nextEventId = 1;
  /** Projects with git data, by `path_with_namespace` (`acme/backend/api`), served over smart HTTP. */
  readonly #gitProjects = new Map<string, number>();
  #nextProjectId = 100;
  #git: GitHttpHosting | undefined;
  /** Projects whose git data refuses every token (401 "HTTP Basic: Access denied"), as for a token out of scope. */
  readonly #gitRestricted = new Set<string>();

  constructor(options: GitlabSandboxOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    for (const id of options.projects ?? [1, 2, 3]) this.#projects.add(id);
    for (const id of options.groups ?? [1]) this.#groups.add(id);
    this.#users.set(ADMIN_USER_ID, {
      id: ADMIN_USER_ID,
      username: 'root',
      name: 'Administrator',
      admin: true,
      bot: false,
    });
    this.adminToken = this.#mint({
      name: 'keyledger',
      scopes: ['api', 'admin_mode'],
      userId: ADMIN_USER_ID,
      ownerType: 'user',
      ownerId: ADMIN_USER_ID,
      expiresAt: null,
    }).secret;
    const r = this.#router;
    for (const type of ['projects', 'groups'] as const) {
      const ownerType = type === 'projects' ? 'project' : 'group';
      r.add('GET', `${API}/${type}/:id/access_tokens`, `gitlab:GET /${type}/:id/access_tokens`, (req, p) =>
        this.#list(req, ownerType, Number(p.id)),
      );
      r.add('POST', `${API}/${type}/:id/access_tokens`, `gitlab:POST /${type}/:id/access_tokens`, (req, p) =>
        this.#create(req, ownerType, Number(p.id)),
      );
      r.add(
        'GET',
        `${API}/${type}/:id/access_tokens/:token_id`,
        `gitlab:GET /${type}/:id/access_tokens/:token_id`,
        (req, p) => this.#get(req, ownerType, Number(p.id), Number(p.token_id)),
      );
      r.add(
        'DELETE',
        `${API}/${type}/:id/access_tokens/:token_id`,
        `gitlab:DELETE /${type}/:id/access_tokens/:token_id`,
        (req, p) => this.#revoke(req, ownerType, Number(p.id), Number(p.token_id)),
      );
      r.add(
        'POST',
        `${API}/${type}/:id/access_tokens/:token_id/rotate`,
        `gitlab:POST /${type}/:id/access_tokens/:token_id/rotate`,
        (req, p) => this.#rotate(req, ownerType, Number(p.id), Number(p.token_id)),
      );
    }
    r.add(
      'POST',
      `${API}/users/:user_id/personal_access_tokens`,
      'gitlab:POST /users/:user_id/personal_access_tokens',
      (req, p) => this.#create(req, 'user', Number(p.user_id)),
    );
    r.add('GET', `${API}/personal_access_tokens/self`, 'gitlab:GET /personal_access_tokens/self', (req) =>
      this.#self(req),
    );
    r.add('GET', `${API}/personal_access_tokens`, 'gitlab:GET /personal_access_tokens', (req) =>
      this.#listPersonal(req),
    );
    r.add('GET', `${API}/personal_access_tokens/:id`, 'gitlab:GET /personal_access_tokens/:id', (req, p) =>
      this.#get(req, 'user', undefined, Number(p.id)),
    );
    r.add('DELETE', `${API}/personal_access_tokens/:id`, 'gitlab:DELETE /personal_access_tokens/:id', (req, p) =>
      this.#revoke(req, 'user', undefined, Number(p.id)),
    );
    r.add(
      'POST',
      `${API}/personal_access_tokens/:id/rotate`,
      'gitlab:POST /personal_access_tokens/:id/rotate',
      (req, p) => this.#rotate(req, 'user', undefined, Number(p.id)),
    );
    r.add('GET', `${API}/users`, 'gitlab:GET /users', (req) => this.#listUsers(req));
    r.add('GET', `${API}/users/:id`, 'gitlab:GET /users/:id', (req, p) => this.#getUser(req, Number(p.id)));
    r.add('GET', `${API}/audit_events`, 'gitlab:GET /audit_events', (req) => this.#auditEvents(req));
    for (const type of ['projects', 'groups'] as const) {
      const ownerType = type === 'projects' ? 'project' : 'group';
      r.add('GET', `${API}/${type}/:id/variables`, `gitlab:GET /${type}/:id/variables`, (req, p) => {
        const auth = this.#admin(req);
        if ('status' in auth) return auth;
        const id = Number(p.id);
        if (!this.#ownerExists(ownerType, id)) return this.#ownerNotFound(ownerType);
        return this.#page(req, this.#variables.get(`${ownerType}:${id}`) ?? []);
      });
    }
    r.add('GET', `${API}/groups/:id/projects`, 'gitlab:GET /groups/:id/projects', (req, p) =>
      this.#groupProjects(req, p.id!),
    );
    // git over HTTPS at the instance root: `/acme/api.git/...`, `/acme/backend/api.git/...` (subgroups nest).
    for (const depth of [2, 3, 4]) {
      const path = Array.from({ length: depth }, (_, index) => `/:s${index}`).join('');
      r.add('GET', `${path}/info/refs`, 'gitlab:GET git info/refs', (req) => this.#serveGit(req));
      r.add('POST', `${path}/git-upload-pack`, 'gitlab:POST git-upload-pack', (req) => this.#serveGit(req));
    }
  }

  /**
   * Commits `files` to the project at `path` (`acme/backend/api`; created if new, in the groups its path names),
   * as a push would; returns the commit id. The project is listed by `GET /groups/:id/projects`.
   */
  pushCommit(path: string, files: Record<string, string>, message: string, author: GitCommitAuthor): string {
    if (!this.#gitProjects.has(path)) {
      const id = this.#nextProjectId++;
      this.#gitProjects.set(path, id);
      this.#projects.add(id);
    }
    this.#git ??= new GitHttpHosting();
    return this.#git.commit(path, files, message, author);
  }

  /** Makes the project's git data refuse every token (401), as for a token without access to it. */
  restrictGit(path: string): void {
    this.#gitRestricted.add(path);
  }

  /** Removes the projects' git data from disk. */
  removeGitRepositories(): void {
    this.#git?.remove();
    this.#git = undefined;
  }

  /**
   * `GET /groups/:id/projects`: the group (URL-encoded full path) and, with `include_subgroups=true`, its
   * subgroups' projects, with the fields a clone needs (`path_with_namespace`, `http_url_to_repo`).
   */
  #groupProjects(request: SandboxRequest, id: string): SandboxAnswer {
    const auth = this.#admin(request);
    if ('status' in auth) return auth;
    const paths = [...this.#gitProjects.keys()];
    const known = /^\d+$/.test(id) ? this.#groups.has(Number(id)) : paths.some((path) => path.startsWith(`${id}/`));
    if (!known) return this.#ownerNotFound('group');
    const subgroups = request.query.get('include_subgroups') === 'true';
    const host = `http://${request.headers.host ?? '127.0.0.1'}`;
    const projects = paths
      .filter((path) => {
        if (!path.startsWith(`${id}/`)) return false;
        return subgroups || !path.slice(id.length + 1).includes('/');
      })
      .sort()
      .map((path) => ({
        id: this.#gitProjects.get(path),
        name: path.slice(path.lastIndexOf('/') + 1),
        path: path.slice(path.lastIndexOf('/') + 1),
        path_with_namespace: path,
        default_branch: 'main',
        http_url_to_repo: `${host}/${path}.git`,
        archived: false,
      }));
    return this.#page(request, projects);
  }

  /** GitLab takes a token as the password of HTTP Basic auth (user `oauth2`, or the token's user) or as Bearer. */
  #serveGit(request: SandboxRequest): SandboxAnswer | Promise<SandboxAnswer> {
    const path = gitHttpPath(request.path);
    const credentials = gitHttpToken(request);
    const token = credentials ? this.#tokensBySecret.get(credentials.token) : undefined;
    const denied: SandboxAnswer = {
      status: 401,
      headers: { 'www-authenticate': 'Basic realm="GitLab"', 'content-type': 'text/plain' },
      body: 'HTTP Basic: Access denied\n',
    };
    if (!token || !this.#active(token)) return denied;
    token.lastUsedAt = this.#clock();
    if (path && this.#gitRestricted.has(path.repository)) return denied;
    if (!path || !this.#git?.has(path.repository)) {
      return {
        status: 404,
        headers: { 'content-type': 'text/plain' },
        body: 'The project you were looking for could not be found.\n',
      };
    }
    return this.#git.serve(request, path);
  }

  load(seed: SandboxSeed): void {
    const logins = new Map(seed.people.map((person) => [person.email, person]));
    const created: Array<{ token: GitlabToken; creator: string | undefined }> = [];
    const userIdsByEmail = new Map<string, number>();
    for (const key of seed.keys) {
      if (key.provider === this.name && key.account.startsWith('user:') && key.createdBy) {
        userIdsByEmail.set(key.createdBy, Number(key.account.slice('user:'.length)));
      }
    }
    // As on GitLab, each project or group token belongs to a bot user of its own.
    for (const key of seed.keys) {
      if (key.provider !== this.name) continue;
      const [type, rawId] = key.account.split(':') as [OwnerType, string];
      const ownerId = Number(rawId);
      if (type === 'project') this.#projects.add(ownerId);
      if (type === 'group') this.#groups.add(ownerId);
      if (type === 'user' && !this.#users.has(ownerId)) {
        const person = key.createdBy ? logins.get(key.createdBy) : undefined;
        this.#users.set(ownerId, {
          id: ownerId,
          username: person?.login ?? `user${ownerId}`,
          name: person?.name ?? `User ${ownerId}`,
          admin: false,
          bot: false,
        });
        this.#nextUserId = Math.max(this.#nextUserId, ownerId + 1);
      }
      const userId = type === 'user' ? ownerId : this.#botUser(type, ownerId);
      const token: GitlabToken = {
        id: Number(key.providerKeyId),
        name: key.name,
        scopes: key.permissions.length ? key.permissions : ['read_api'],
        userId,
        ownerType: type,
        ownerId,
        ...(type !== 'user' ? { accessLevel: key.permissions.includes('api') ? 40 : 30 } : {}),
        createdAt: new Date(key.createdAt),
        expiresAt: key.expiresAt ? key.expiresAt.slice(0, 10) : null,
        lastUsedAt: key.lastUsedAt ? new Date(key.lastUsedAt) : null,
        revoked: key.status !== 'active',
        secret: key.secret,
      };
      this.#tokensById.set(token.id, token);
      this.#tokensBySecret.set(token.secret, token);
      this.#nextTokenId = Math.max(this.#nextTokenId, token.id + 1);
      created.push({ token, creator: key.createdBy });
    }
    // The creation of each loaded token, as GitLab audited it then (from a documentation address, TEST-NET-2).
    created.sort((a, b) => a.token.createdAt.getTime() - b.token.createdAt.getTime());
    for (const { token, creator } of created) {
      const author =
        token.ownerType === 'user'
          ? token.ownerId
          : ((creator ? userIdsByEmail.get(creator) : undefined) ?? ADMIN_USER_ID);
      this.#record(author, token.ownerType, token.ownerId, token, 'created', {
        ip: `198.51.100.${(token.id % 254) + 1}`,
        at: token.createdAt,
      });
    }
  }

  match(request: SandboxRequest): SandboxRouteMatch | undefined {
    return this.#router.match(request);
  }

  notFound(): SandboxAnswer {
    return { status: 404, body: { message: '404 Not Found' } };
  }

  rateLimited(retryAfter: string, status?: number): SandboxAnswer {
    const reset = Math.floor(Date.now() / 1000) + (Number(retryAfter) || 60);
    return {
      status: status ?? 429,
      headers: {
        'content-type': 'text/plain',
        'retry-after': retryAfter,
        'ratelimit-limit': '2000',
        'ratelimit-remaining': '0',
        'ratelimit-reset': String(reset),
        'ratelimit-name': 'throttle_authenticated_api',
      },
      body: 'Retry later\n',
    };
  }

  failure(status: number, echo?: string): SandboxAnswer {
    return { status, body: { message: `${status} Internal Server Error${echo ? ` (PRIVATE-TOKEN ${echo})` : ''}` } };
  }

  callerSecret(request: SandboxRequest): string | undefined {
    return tokenOf(request);
  }

  /** Limits are per token (GitHub: per user or installation; GitLab: per user), anonymous calls per address. */
  rateLimitKey(request: SandboxRequest): string {
    return tokenOf(request) ?? request.remoteAddress;
  }

  control(request: SandboxRequest, subpath: string): SandboxAnswer | undefined {
    if (request.method === 'GET' && subpath === 'admin-token') return { status: 200, body: { token: this.adminToken } };
    return undefined;
  }

  auditLog(): GitlabAuditEvent[] {
    return [...this.#audit];
  }

  groundTruth(): unknown {
    return {
      projects: [...this.#projects],
      groups: [...this.#groups],
      tokens: [...this.#tokensById.values()]
        .filter((t) => t.userId !== ADMIN_USER_ID)
        .map((t) => ({
          id: t.id,
          owner: `${t.ownerType}:${t.ownerId}`,
          name: t.name,
          revoked: t.revoked,
          createdAt: t.createdAt.toISOString(),
          revokedAt: t.revokedAt?.toISOString() ?? null,
          lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
        })),
    };
  }

  /**
   * Plants a CI/CD variable on a project or group, as a maintainer adds it in the settings. The list answers
   * GitLab's shape (`variable_type`, `key`, `value`, `protected`, `masked`, `hidden`, `raw`, `environment_scope`,
   * `description`): GitLab returns values, unless the variable is hidden.
   */
  addVariable(
    owner: { project: number } | { group: number },
    variable: {
      key: string;
      value: string;
      masked?: boolean;
      protected?: boolean;
      hidden?: boolean;
      environmentScope?: string;
    },
  ): void {
    const type: OwnerType = 'project' in owner ? 'project' : 'group';
    const id = 'project' in owner ? owner.project : owner.group;
    if (type === 'project') this.#projects.add(id);
    else this.#groups.add(id);
    const list = this.#variables.get(`${type}:${id}`) ?? [];
    list.push({
      variable_type: 'env_var',
      key: variable.key,
      value: variable.hidden ? null : variable.value,
      protected: variable.protected ?? false,
      masked: variable.masked ?? variable.hidden ?? false,
      hidden: variable.hidden ?? false,
      raw: false,
      ...(type === 'project' ? { environment_scope: variable.environmentScope ?? '*' } : {}),
      description: null,
    });
    this.#variables.set(`${type}:${id}`, list);
  }

  #botUser(type: OwnerType, ownerId: number): number {
    // Bot ids live far above people's, so an organisation's user ids never collide with them.
    const id = this.#nextBotId++;
    this.#users.set(id, {
      id,
      username: `${type}_${ownerId}_bot_${id}`,
      name: `${type} ${ownerId} bot`,
      admin: false,
      bot: true,
    });
    return id;
  }

  #mint(input: Omit<GitlabToken, 'id' | 'secret' | 'createdAt' | 'lastUsedAt' | 'revoked'>): GitlabToken {
    const token: GitlabToken = {
      ...input,
      id: this.#nextTokenId++,
      secret: generateGitlabToken(Math.random),
      createdAt: this.#clock(),
      lastUsedAt: null,
      revoked: false,
    };
    this.#tokensById.set(token.id, token);
    this.#tokensBySecret.set(token.secret, token);
    return token;
  }

  #active(token: GitlabToken): boolean {
    return !token.revoked && (token.expiresAt === null || token.expiresAt > this.#clock().toISOString().slice(0, 10));
  }

  #json(token: GitlabToken, withSecret = false) {
    return {
      id: token.id,
      name: token.name,
      revoked: token.revoked,
      created_at: token.createdAt.toISOString(),
      description: null,
      scopes: token.scopes,
      user_id: token.userId,
      last_used_at: token.lastUsedAt?.toISOString() ?? null,
      active: this.#active(token),
      expires_at: token.expiresAt,
      ...(token.accessLevel !== undefined ? { access_level: token.accessLevel } : {}),
      ...(withSecret ? { token: token.secret } : {}),
    };
  }

  #authenticate(request: SandboxRequest): GitlabToken | SandboxAnswer {
    const secret = tokenOf(request);
    const token = secret ? this.#tokensBySecret.get(secret) : undefined;
    if (!token || !this.#active(token)) return { status: 401, body: { message: '401 Unauthorized' } };
    // GitLab records use on every authenticated request.
    token.lastUsedAt = this.#clock();
    return token;
  }

  #admin(request: SandboxRequest): GitlabToken | SandboxAnswer {
    const token = this.#authenticate(request);
    if ('status' in token) return token;
    if (!this.#users.get(token.userId)?.admin) return { status: 403, body: { message: '403 Forbidden' } };
    return token;
  }

  #ownerExists(type: OwnerType, id: number): boolean {
    if (type === 'project') return this.#projects.has(id);
    if (type === 'group') return this.#groups.has(id);
    return this.#users.has(id) && !this.#users.get(id)!.bot;
  }

  #ownerNotFound(type: OwnerType): SandboxAnswer {
    const label = type === 'project' ? 'Project' : type === 'group' ? 'Group' : 'User';
    return { status: 404, body: { message: `404 ${label} Not Found` } };
  }

  #page<T>(request: SandboxRequest, items: T[]): SandboxAnswer {
    const perPage = Math.min(100, Math.max(1, Number(request.query.get('per_page') ?? 20) || 20));
    const page = Math.max(1, Number(request.query.get('page') ?? 1) || 1);
    const totalPages = Math.max(1, Math.ceil(items.length / perPage));
    const headers: Record<string, string> = {
      'x-page': String(page),
      'x-per-page': String(perPage),
      'x-total': String(items.length),
      'x-total-pages': String(totalPages),
      'x-next-page': page < totalPages ? String(page + 1) : '',
    };
    if (page < totalPages) {
      const next = new URLSearchParams(request.query);
      next.set('page', String(page + 1));
      next.set('per_page', String(perPage));
      headers.link = `<http://${request.headers.host ?? '127.0.0.1'}${request.path}?${next}>; rel="next"`;
    }
    return { status: 200, headers, body: items.slice((page - 1) * perPage, page * perPage) };
  }

  #list(request: SandboxRequest, type: OwnerType, ownerId: number): SandboxAnswer {
    const auth = this.#admin(request);
    if ('status' in auth) return auth;
    if (!this.#ownerExists(type, ownerId)) return this.#ownerNotFound(type);
    const tokens = [...this.#tokensById.values()].filter((t) => t.ownerType === type && t.ownerId === ownerId);
    return this.#page(
      request,
      tokens.map((t) => this.#json(t)),
    );
  }

  #listPersonal(request: SandboxRequest): SandboxAnswer {
    const auth = this.#admin(request);
    if ('status' in auth) return auth;
    const userId = request.query.get('user_id');
    const tokens = [...this.#tokensById.values()].filter((t) => (userId ? t.userId === Number(userId) : true));
    return this.#page(
      request,
      tokens.map((t) => this.#json(t)),
    );
  }

  /**
   * `GET /users` as an administrator, with the filters GitLab documents for telling people from bots: `humans=true`
   * (regular users only) and `exclude_humans=true` (bot and internal users only, project and group bots included).
   */
  #listUsers(request: SandboxRequest): SandboxAnswer {
    const auth = this.#admin(request);
    if ('status' in auth) return auth;
    const humans = request.query.get('humans') === 'true';
    const excludeHumans = request.query.get('exclude_humans') === 'true';
    const users = [...this.#users.values()].filter((user) => (humans ? !user.bot : excludeHumans ? user.bot : true));
    return this.#page(
      request,
      users.map((user) => this.#userJson(user)),
    );
  }

  #getUser(request: SandboxRequest, id: number): SandboxAnswer {
    const auth = this.#admin(request);
    if ('status' in auth) return auth;
    const user = this.#users.get(id);
    return user ? { status: 200, body: this.#userJson(user) } : this.#ownerNotFound('user');
  }

  /** A user as GitLab's users API answers an administrator (the fields keyledger reads, and `bot`). */
  #userJson(user: GitlabUser) {
    return {
      id: user.id,
      username: user.username,
      name: user.name,
      state: 'active',
      bot: user.bot,
      is_admin: user.admin,
    };
  }

  #find(type: OwnerType, ownerId: number | undefined, tokenId: number): GitlabToken | undefined {
    const token = this.#tokensById.get(tokenId);
    if (!token) return undefined;
    if (ownerId === undefined) return token;
    return token.ownerType === type && token.ownerId === ownerId ? token : undefined;
  }

  #get(request: SandboxRequest, type: OwnerType, ownerId: number | undefined, tokenId: number): SandboxAnswer {
    const auth = this.#admin(request);
    if ('status' in auth) return auth;
    if (ownerId !== undefined && !this.#ownerExists(type, ownerId)) return this.#ownerNotFound(type);
    const token = this.#find(type, ownerId, tokenId);
    return token ? { status: 200, body: this.#json(token) } : this.notFound();
  }

  #self(request: SandboxRequest): SandboxAnswer {
    const token = this.#authenticate(request);
    if ('status' in token) return token;
    return { status: 200, body: this.#json(token) };
  }

  #create(request: SandboxRequest, type: OwnerType, ownerId: number): SandboxAnswer {
    const auth = this.#admin(request);
    if ('status' in auth) return auth;
    if (!this.#ownerExists(type, ownerId)) return this.#ownerNotFound(type);
    let body: { name?: string; scopes?: string[]; expires_at?: string; access_level?: number };
    try {
      body = JSON.parse(request.text || '{}') as typeof body;
    } catch {
      return { status: 400, body: { error: 'body is invalid JSON' } };
    }
    if (!body.name) return { status: 400, body: { error: 'name is missing' } };
    if (!Array.isArray(body.scopes) || body.scopes.length === 0)
      return { status: 400, body: { error: 'scopes is missing' } };
    if (!body.expires_at) return { status: 400, body: { message: { expires_at: ["can't be blank"] } } };
    if (!/^\d{4}-\d{2}-\d{2}$/.test(body.expires_at)) return { status: 400, body: { error: 'expires_at is invalid' } };
    const maxDate = new Date(this.#clock().getTime() + 400 * 86_400_000).toISOString().slice(0, 10);
    if (body.expires_at > maxDate) {
      return {
        status: 400,
        body: { message: { expires_at: ['must be before the maximum allowable lifetime (400 days)'] } },
      };
    }
    const token = this.#mint({
      name: body.name,
      scopes: body.scopes,
      userId: type === 'user' ? ownerId : this.#botUser(type, ownerId),
      ownerType: type,
      ownerId,
      ...(type !== 'user' ? { accessLevel: body.access_level ?? 40 } : {}),
      expiresAt: body.expires_at,
    });
    this.#record(auth.userId, type, ownerId, token, 'created', this.#now(request));
    return { status: 201, body: this.#json(token, true) };
  }

  #revoke(request: SandboxRequest, type: OwnerType, ownerId: number | undefined, tokenId: number): SandboxAnswer {
    const auth = this.#admin(request);
    if ('status' in auth) return auth;
    if (ownerId !== undefined && !this.#ownerExists(type, ownerId)) return this.#ownerNotFound(type);
    const token = this.#find(type, ownerId, tokenId);
    if (!token) return this.notFound();
    if (token.revoked) return { status: 400, body: { message: '400 Bad request - Token already revoked' } };
    token.revoked = true;
    token.revokedAt = this.#clock();
    this.#record(auth.userId, token.ownerType, token.ownerId, token, 'revoked', this.#now(request));
    return { status: 204 };
  }

  #rotate(request: SandboxRequest, type: OwnerType, ownerId: number | undefined, tokenId: number): SandboxAnswer {
    const auth = this.#admin(request);
    if ('status' in auth) return auth;
    if (ownerId !== undefined && !this.#ownerExists(type, ownerId)) return this.#ownerNotFound(type);
    const old = this.#find(type, ownerId, tokenId);
    if (!old) return this.notFound();
    if (!this.#active(old)) return { status: 400, body: { message: '400 Bad request - Token already revoked' } };
    const requested =
      request.query.get('expires_at') ?? (JSON.parse(request.text || '{}') as { expires_at?: string }).expires_at;
    old.revoked = true;
    old.revokedAt = this.#clock();
    const token = this.#mint({
      name: old.name,
      scopes: old.scopes,
      userId: old.userId,
      ownerType: old.ownerType,
      ownerId: old.ownerId,
      ...(old.accessLevel !== undefined ? { accessLevel: old.accessLevel } : {}),
      expiresAt:
        requested ?? new Date(this.#clock().getTime() + ROTATED_LIFETIME_DAYS * 86_400_000).toISOString().slice(0, 10),
    });
    this.#record(auth.userId, old.ownerType, old.ownerId, token, 'rotated', this.#now(request), old.id);
    return { status: 200, body: this.#json(token, true) };
  }

  #auditEvents(request: SandboxRequest): SandboxAnswer {
    const auth = this.#admin(request);
    if ('status' in auth) return auth;
    return this.#page(request, [...this.#audit].reverse());
  }

  /** Where and when an API call happened, for its audit event. */
  #now(request: SandboxRequest): { ip: string; at: Date } {
    return { ip: request.remoteAddress.replace(/^::ffff:/, ''), at: this.#clock() };
  }

  #record(
    authorUserId: number,
    type: OwnerType,
    ownerId: number,
    token: GitlabToken,
    verb: 'created' | 'revoked' | 'rotated',
    when: { ip: string; at: Date },
    previousId?: number,
  ): void {
    const authorUser = this.#users.get(authorUserId) ?? this.#users.get(ADMIN_USER_ID)!;
    const label =
      type === 'project' ? 'project access token' : type === 'group' ? 'group access token' : 'personal access token';
    const message =
      verb === 'rotated'
        ? `Rotated ${label} with token_id: ${previousId}, new token_id: ${token.id}`
        : `${verb === 'created' ? 'Created' : 'Revoked'} ${label} with token_id: ${token.id}${verb === 'created' ? ` with scopes: [${token.scopes.map((s) => `:${s}`).join(', ')}]` : ''}`;
    this.#audit.push({
      id: this.#nextEventId++,
      author_id: authorUser.id,
      entity_id: ownerId,
      entity_type: type === 'project' ? 'Project' : type === 'group' ? 'Group' : 'User',
      event_name: `${type === 'user' ? 'personal' : type}_access_token_${verb}`,
      details: {
        custom_message: message,
        author_name: authorUser.name,
        author_class: 'User',
        target_id: token.id,
        target_type: 'PersonalAccessToken',
        target_details: token.name,
        ip_address: when.ip,
        entity_path: type === 'user' ? (this.#users.get(ownerId)?.username ?? String(ownerId)) : `${type}-${ownerId}`,
      },
      created_at: when.at.toISOString(),
    });
  }
}

function tokenOf(request: SandboxRequest): string | undefined {
  const privateToken = request.headers['private-token'];
  if (typeof privateToken === 'string' && privateToken) return privateToken;
  const match = request.headers.authorization ? /^Bearer\s+(\S+)$/i.exec(request.headers.authorization.trim()) : null;
  return match?.[1];
}
