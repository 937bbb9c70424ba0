// A local Okta Management API for users and their sessions: `GET /api/v1/users` (cursor pagination with `after`
// and `limit`, a `Link: <...>; rel="next"` header; DEPROVISIONED users only with `filter=status eq "DEPROVISIONED"`,
// as Okta lists them), `GET /api/v1/users/{id or login}`, `DELETE /api/v1/users/{id}/sessions?oauthTokens=true`
// (204), `Authorization: SSWS <token>`, Okta's error body (`errorCode`, `errorSummary`, `errorLink`, `errorId`,
// `errorCauses`) and its rate-limit answer (429 E0000047 with `X-Rate-Limit-Limit/-Remaining/-Reset`, a Unix time).
// developer.okta.com/docs/reference/rl-best-practices and the Users API reference describe these shapes.
import { randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '../../../runtime/clock.js';
import { SandboxPathRouter } from '../../sandbox-path-router.js';
import type { SandboxSeed } from '../../sandbox-seed.js';
import type { SandboxAnswer, SandboxProvider, SandboxRequest, SandboxRouteMatch } from '../../sandbox-server.js';
import { IdpSandboxPeople, type IdpSandboxUser } from '../idp-sandbox-people.js';

const OKTA_RATE_LIMIT = 600;

export class OktaSandbox implements SandboxProvider {
  readonly name = 'okta';
  readonly apiToken = `00${randomBytes(20).toString('base64url')}`;
  readonly people = new IdpSandboxPeople((index) => `00u${String(index + 1).padStart(6, '0')}abcdEFGH5d7`);
  readonly #router = new SandboxPathRouter();
  readonly #clock: Clock;
  #url = '';

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
    const r = this.#router;
    r.add('GET', '/api/v1/users', 'okta:GET /api/v1/users', (req) => this.#authed(req, () => this.#list(req)));
    r.add('GET', '/api/v1/users/:id', 'okta:GET /api/v1/users/{id}', (req, p) =>
      this.#authed(req, () => this.#get(p.id!)),
    );
    r.add('DELETE', '/api/v1/users/:id/sessions', 'okta:DELETE /api/v1/users/{id}/sessions', (req, p) =>
      this.#authed(req, () => this.#revoke(p.id!)),
    );
  }

  /** The sandbox's own URL, for the `Link` headers it writes (set by whoever starts the server). */
  setUrl(url: string): void {
    this.#url = url;
  }

  load(seed: SandboxSeed, options: { leaversAsActive?: boolean } = {}): void {
    this.people.load(seed, options);
  }

  match(request: SandboxRequest): SandboxRouteMatch | undefined {
    return this.#router.match(request);
  }

  notFound(request: SandboxRequest): SandboxAnswer {
    return oktaError(404, 'E0000022', `The endpoint does not support the provided HTTP method (${request.path})`);
  }

  rateLimited(retryAfter: string, status?: number): SandboxAnswer {
    const seconds = /^\d+$/.test(retryAfter) ? Number(retryAfter) : 1;
    const answer = oktaError(status ?? 429, 'E0000047', 'API call exceeded rate limit due to too many requests.');
    return {
      ...answer,
      headers: {
        ...answer.headers,
        'x-rate-limit-limit': String(OKTA_RATE_LIMIT),
        'x-rate-limit-remaining': '0',
        'x-rate-limit-reset': String(Math.ceil(Date.now() / 1000) + Math.max(1, seconds)),
      },
    };
  }

  failure(status: number, echo?: string): SandboxAnswer {
    return oktaError(status, 'E0000009', `Internal Server Error${echo ? ` (SSWS ${echo})` : ''}`);
  }

  callerSecret(request: SandboxRequest): string | undefined {
    return /^SSWS\s+(\S+)$/.exec(request.headers.authorization ?? '')?.[1];
  }

  auditLog(): unknown {
    return this.people.revocations;
  }

  groundTruth(): unknown {
    return this.people.groundTruth();
  }

  #authed(request: SandboxRequest, handle: () => SandboxAnswer): SandboxAnswer {
    if (this.callerSecret(request) !== this.apiToken) return oktaError(401, 'E0000011', 'Invalid token provided');
    return handle();
  }

  #list(request: SandboxRequest): SandboxAnswer {
    const limit = Math.min(200, Math.max(1, Number(request.query.get('limit') ?? 200) || 200));
    const after = request.query.get('after');
    const filter = request.query.get('filter') ?? request.query.get('search');
    const status = filter ? /^status eq "([A-Z_]+)"$/.exec(filter.trim())?.[1] : undefined;
    if (filter && !status) return oktaError(400, 'E0000031', `Invalid search criteria. (${filter})`);
    const users = this.people
      .all()
      .filter((user) => (status ? statusOf(user) === status : statusOf(user) !== 'DEPROVISIONED'))
      .sort((a, b) => a.id.localeCompare(b.id));
    const start = after ? users.findIndex((user) => user.id > after) : 0;
    const page = start < 0 ? [] : users.slice(start, start + limit);
    const base = `${this.#url}/api/v1/users?limit=${limit}${filter ? `&filter=${encodeURIComponent(filter)}` : ''}`;
    const links = [`<${base}>; rel="self"`];
    if (start >= 0 && start + limit < users.length) links.push(`<${base}&after=${page.at(-1)!.id}>; rel="next"`);
    return { status: 200, headers: { link: links.join(', ') }, body: page.map((user) => this.#render(user)) };
  }

  #get(id: string): SandboxAnswer {
    const user = this.people.find(id);
    return user ? { status: 200, body: this.#render(user) } : userNotFound(id);
  }

  #revoke(id: string): SandboxAnswer {
    const user = this.people.find(id);
    if (!user || user.id !== decodeURIComponent(id)) return userNotFound(id);
    this.people.revoke(user, this.#clock().toISOString());
    return { status: 204 };
  }

  #render(user: IdpSandboxUser): unknown {
    const [firstName, ...rest] = user.name.split(' ');
    return {
      id: user.id,
      status: statusOf(user),
      created: user.created,
      activated: user.created,
      statusChanged: user.statusChanged,
      lastLogin: null,
      lastUpdated: user.created,
      passwordChanged: user.created,
      type: { id: 'oty1abcdEFGH5d7' },
      profile: { firstName, lastName: rest.join(' '), login: user.email, email: user.email, nickName: user.login },
      credentials: { provider: { type: 'OKTA', name: 'OKTA' } },
      _links: { self: { href: `${this.#url}/api/v1/users/${user.id}` } },
    };
  }
}

function statusOf(user: IdpSandboxUser): string {
  return user.left ? 'DEPROVISIONED' : 'ACTIVE';
}

function userNotFound(id: string): SandboxAnswer {
  return oktaError(404, 'E0000007', `Not found: Resource not found: ${decodeURIComponent(id)} (User)`);
}

function oktaError(status: number, errorCode: string, errorSummary: string): SandboxAnswer {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: {
      errorCode,
      errorSummary,
      errorLink: errorCode,
      errorId: `oae${randomBytes(8).toString('hex')}`,
      errorCauses: [],
    },
  };
}
