// A local SendGrid v3 API for API keys: `POST|GET /v3/api_keys`, `GET|DELETE /v3/api_keys/{api_key_id}`,
// `GET /v3/scopes` (what a key may do: the cheapest call that proves it), bearer authentication, scopes checked on
// every call, subusers addressed by the `on-behalf-of` header, SendGrid's `{errors: [{field, message}]}` bodies and
// `X-RateLimit-Limit/-Remaining/-Reset` (a Unix time). SendGrid records no last use of a key and has no audit-log
// API for keys; the sandbox's audit log is empty.
import type { Clock } from '../../../runtime/clock.js';
import { systemClock } from '../../../runtime/clock.js';
import { bearerToken } from '../../sandbox-credentials.js';
import { SandboxPathRouter } from '../../sandbox-path-router.js';
import type { SandboxSeed } from '../../sandbox-seed.js';
import type { SandboxAnswer, SandboxProvider, SandboxRequest, SandboxRouteMatch } from '../../sandbox-server.js';
import { generateSendgridApiKey } from './sendgrid-key-format.js';

const RATE_LIMIT_REQUESTS = 600;
/** Scopes of a full-access key, in part (SendGrid's list is long; these are the ones key management checks). */
const FULL_ACCESS = [
  'api_keys.create',
  'api_keys.read',
  'api_keys.update',
  'api_keys.delete',
  'mail.send',
  'user.profile.read',
  'subusers.read',
  'scopes.read',
];

export interface SendgridSandboxOptions {
  clock?: Clock;
}

interface SendgridKey {
  id: string;
  key: string;
  name: string;
  /** The user (parent account or subuser) the key belongs to. */
  username: string;
  scopes: string[];
}

export class SendgridSandbox implements SandboxProvider {
  readonly name = 'sendgrid';
  readonly username = 'keyledger-parent';
  /** The adapter's credential: a parent-account key with full access. */
  readonly adminKey: string;
  readonly #clock: Clock;
  readonly #router = new SandboxPathRouter();
  readonly #keys = new Map<string, SendgridKey>();
  readonly #subusers = new Set<string>();

  constructor(options: SendgridSandboxOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.adminKey = this.#mint('keyledger', this.username, FULL_ACCESS).key;
    const r = this.#router;
    r.add('GET', '/v3/scopes', 'sendgrid:GET /v3/scopes', (req) => this.#scopes(req));
    r.add('GET', '/v3/api_keys', 'sendgrid:GET /v3/api_keys', (req) => this.#list(req));
    r.add('GET', '/v3/subusers', 'sendgrid:GET /v3/subusers', (req) => this.#listSubusers(req));
    r.add('POST', '/v3/api_keys', 'sendgrid:POST /v3/api_keys', (req) => this.#create(req));
    r.add('GET', '/v3/api_keys/:id', 'sendgrid:GET /v3/api_keys/{api_key_id}', (req, p) => this.#get(req, p.id!));
    r.add('DELETE', '/v3/api_keys/:id', 'sendgrid:DELETE /v3/api_keys/{api_key_id}', (req, p) =>
      this.#delete(req, p.id!),
    );
  }

  /** Organisation keys name their user as the account: each becomes a subuser of the parent. */
  load(seed: SandboxSeed): void {
    for (const seeded of seed.keys) {
      if (seeded.provider !== this.name || seeded.status !== 'active') continue;
      this.#subusers.add(seeded.account);
      const key: SendgridKey = {
        id: seeded.providerKeyId,
        key: seeded.secret,
        name: seeded.name,
        username: seeded.account,
        scopes: seeded.permissions.length ? seeded.permissions : ['mail.send'],
      };
      this.#keys.set(key.id, key);
    }
  }

  /** Adds a subuser of the parent account. */
  addSubuser(username: string): void {
    this.#subusers.add(username);
  }

  match(request: SandboxRequest): SandboxRouteMatch | undefined {
    return this.#router.match(request);
  }

  notFound(): SandboxAnswer {
    return errors(404, 'resource not found');
  }

  rateLimited(retryAfter: string, status?: number): SandboxAnswer {
    const seconds = /^\d+$/.test(retryAfter)
      ? Number(retryAfter)
      : Math.ceil((Date.parse(retryAfter) - Date.now()) / 1000);
    const answer = errors(status ?? 429, 'too many requests');
    return {
      ...answer,
      headers: {
        ...answer.headers,
        'x-ratelimit-limit': String(RATE_LIMIT_REQUESTS),
        'x-ratelimit-remaining': '0',
        // SendGrid's reset is the Unix time at which the window reopens.
        'x-ratelimit-reset': String(Math.ceil((Date.now() + Math.max(0, seconds) * 1000) / 1000)),
      },
    };
  }

  failure(status: number, echo?: string): SandboxAnswer {
    return errors(status, `internal server error${echo ? ` (Authorization: Bearer ${echo})` : ''}`);
  }

  callerSecret(request: SandboxRequest): string | undefined {
    return bearerToken(request);
  }

  rateLimitKey(request: SandboxRequest): string {
    return bearerToken(request) ?? request.remoteAddress;
  }

  control(request: SandboxRequest, subpath: string): SandboxAnswer | undefined {
    if (request.method === 'POST' && subpath === 'subusers') {
      const { username } = JSON.parse(request.text || '{}') as { username?: string };
      if (!username) return { status: 400, body: { error: 'username required' } };
      this.#subusers.add(username);
      return { status: 201, body: { username } };
    }
    return undefined;
  }

  /** SendGrid has no audit-log API for API keys. */
  auditLog(): unknown[] {
    return [];
  }

  groundTruth(): unknown {
    return {
      subusers: [...this.#subusers],
      keys: [...this.#keys.values()]
        .filter((key) => key.key !== this.adminKey)
        .map((key) => ({ id: key.id, name: key.name, username: key.username, scopes: key.scopes })),
    };
  }

  #mint(name: string, username: string, scopes: string[]): SendgridKey {
    const { id, key } = generateSendgridApiKey(Math.random);
    const minted = { id, key, name, username, scopes };
    this.#keys.set(id, minted);
    return minted;
  }

  #keyOf(request: SandboxRequest): SendgridKey | undefined {
    const secret = bearerToken(request);
    const id = secret?.slice(3, 25);
    const key = id ? this.#keys.get(id) : undefined;
    return key && key.key === secret ? key : undefined;
  }

  /** The caller's key, the scope it needs, and the user it acts for (itself, or a subuser via on-behalf-of). */
  #authorise(request: SandboxRequest, scope: string): { key: SendgridKey; username: string } | SandboxAnswer {
    const key = this.#keyOf(request);
    if (!key) return errors(401, 'authorization required');
    if (!key.scopes.includes(scope)) return errors(403, 'access forbidden');
    const onBehalfOf = request.headers['on-behalf-of'];
    if (typeof onBehalfOf === 'string' && onBehalfOf !== '') {
      if (key.username !== this.username || !this.#subusers.has(onBehalfOf)) return errors(403, 'access forbidden');
      return { key, username: onBehalfOf };
    }
    return { key, username: key.username };
  }

  #scopes(request: SandboxRequest): SandboxAnswer {
    const key = this.#keyOf(request);
    if (!key) return errors(401, 'authorization required');
    return { status: 200, headers: this.#rateHeaders(), body: { scopes: key.scopes } };
  }

  /** `GET /v3/subusers?limit=&offset=`: the parent's subusers, a bare array. */
  #listSubusers(request: SandboxRequest): SandboxAnswer {
    const key = this.#keyOf(request);
    if (!key) return errors(401, 'authorization required');
    if (key.username !== this.username || !key.scopes.includes('subusers.read')) return errors(403, 'access forbidden');
    const limit = Math.max(1, Number(request.query.get('limit') ?? 100) || 100);
    const offset = Math.max(0, Number(request.query.get('offset') ?? 0) || 0);
    const page = [...this.#subusers].slice(offset, offset + limit);
    return {
      status: 200,
      headers: this.#rateHeaders(),
      body: page.map((username, index) => ({
        id: offset + index + 1,
        username,
        email: `${username}@example.com`,
        disabled: false,
      })),
    };
  }

  #list(request: SandboxRequest): SandboxAnswer {
    const auth = this.#authorise(request, 'api_keys.read');
    if ('status' in auth) return auth;
    const limit = Number(request.query.get('limit') ?? 0);
    const keys = [...this.#keys.values()].filter((key) => key.username === auth.username);
    const shown = limit > 0 ? keys.slice(0, limit) : keys;
    return {
      status: 200,
      headers: this.#rateHeaders(),
      body: { result: shown.map((key) => ({ name: key.name, api_key_id: key.id })) },
    };
  }

  #get(request: SandboxRequest, id: string): SandboxAnswer {
    const auth = this.#authorise(request, 'api_keys.read');
    if ('status' in auth) return auth;
    const key = this.#keys.get(id);
    if (!key || key.username !== auth.username) return errors(404, 'unable to find API key');
    return {
      status: 200,
      headers: this.#rateHeaders(),
      body: { result: [{ name: key.name, api_key_id: key.id, scopes: key.scopes }] },
    };
  }

  #create(request: SandboxRequest): SandboxAnswer {
    const auth = this.#authorise(request, 'api_keys.create');
    if ('status' in auth) return auth;
    let body: { name?: unknown; scopes?: unknown };
    try {
      body = JSON.parse(request.text || '{}') as typeof body;
    } catch {
      return errors(400, 'invalid JSON', null);
    }
    if (typeof body.name !== 'string' || body.name === '') return errors(400, 'missing required argument', 'name');
    if (body.scopes !== undefined && !(Array.isArray(body.scopes) && body.scopes.every((s) => typeof s === 'string'))) {
      return errors(400, 'scopes must be an array of strings', 'scopes');
    }
    // A key cannot grant scopes its creator lacks; without scopes it gets full access.
    const scopes = (body.scopes as string[] | undefined) ?? FULL_ACCESS;
    const beyond = scopes.find((scope) => !auth.key.scopes.includes(scope) && scope !== 'mail.send');
    if (beyond) return errors(400, `you do not have permission to grant the scope ${beyond}`, 'scopes');
    const key = this.#mint(body.name, auth.username, scopes);
    return {
      status: 201,
      headers: this.#rateHeaders(),
      body: { api_key: key.key, api_key_id: key.id, name: key.name, scopes: key.scopes },
    };
  }

  #delete(request: SandboxRequest, id: string): SandboxAnswer {
    const auth = this.#authorise(request, 'api_keys.delete');
    if ('status' in auth) return auth;
    const key = this.#keys.get(id);
    if (!key || key.username !== auth.username) return errors(404, 'unable to find API key');
    this.#keys.delete(id);
    return { status: 204 };
  }

  #rateHeaders(): Record<string, string> {
    return {
      'x-ratelimit-limit': String(RATE_LIMIT_REQUESTS),
      'x-ratelimit-remaining': String(RATE_LIMIT_REQUESTS - 1),
      'x-ratelimit-reset': String(Math.floor(this.#clock().getTime() / 1000) + 60),
    };
  }
}

function errors(status: number, message: string, field: string | null = null): SandboxAnswer {
  return { status, body: { errors: [{ field, message }] } };
}
