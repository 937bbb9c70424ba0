// A local Datadog API for key management: API keys (`/api/v2/api_keys`), application keys (created for the current
// user at `/api/v2/current_user/application_keys`, managed org-wide at `/api/v2/application_keys`), `GET
// /api/v1/validate` with `DD-API-KEY`, Audit Trail events (`GET /api/v2/audit/events`) that name the key of every
// request by `@metadata.api_key.id` / `@metadata.application_key.id`, and Datadog's `{errors: [...]}` bodies and
// `X-RateLimit-*` headers. Application keys carry `last_used_at`; API keys have no such field, their last use is in
// the Audit Trail.
import type { Clock } from '../../../runtime/clock.js';
import { systemClock } from '../../../runtime/clock.js';
import { SandboxPathRouter } from '../../sandbox-path-router.js';
import type { SandboxSeed } from '../../sandbox-seed.js';
import type { SandboxAnswer, SandboxProvider, SandboxRequest, SandboxRouteMatch } from '../../sandbox-server.js';
import { generateDatadogApiKey, generateDatadogApplicationKey, generateDatadogKeyId } from './datadog-key-format.js';

const MAX_PAGE_SIZE = 100;
const RATE_LIMIT_PERIOD_SECONDS = 60;
const RATE_LIMIT_REQUESTS = 1000;

export interface DatadogSandboxOptions {
  clock?: Clock;
  org?: string;
}

interface DatadogUser {
  id: string;
  handle: string;
  name: string;
}

interface DatadogKey {
  kind: 'api_keys' | 'application_keys';
  id: string;
  name: string;
  key: string;
  createdAt: Date;
  modifiedAt: Date;
  createdBy: string;
  /** Application keys only: Datadog records their last use. */
  lastUsedAt: Date | null;
  scopes: string[] | null;
  /** Seeded keys that no longer work (the organisation's revoked ones). */
  disabled: boolean;
}

/** An Audit Trail event as `GET /api/v2/audit/events` returns it. */
export interface DatadogAuditEvent {
  id: string;
  type: 'audit';
  attributes: {
    timestamp: string;
    service: string;
    message: string;
    tags: string[];
    attributes: {
      evt: { name: string; actor?: { type: string } };
      action?: string;
      asset?: { type: string; id: string; name: string };
      usr?: { id: string; handle: string; name: string };
      metadata: { api_key?: { id: string }; application_key?: { id: string } };
      http?: { method: string; status_code: number; url_details: { path: string } };
      network: { client: { ip: string } };
    };
  };
}

export class DatadogSandbox implements SandboxProvider {
  readonly name = 'datadog';
  readonly org: string;
  /** The adapter's credentials: an API key and an application key of an administrator. */
  readonly adminApiKey: string;
  readonly adminApplicationKey: string;
  readonly #clock: Clock;
  readonly #router = new SandboxPathRouter();
  readonly #users = new Map<string, DatadogUser>();
  readonly #keys = new Map<string, DatadogKey>();
  readonly #keysBySecret = new Map<string, DatadogKey>();
  readonly #audit: DatadogAuditEvent[] = [];
  readonly #admin: DatadogUser;
  #nextEvent = 1;

  constructor(options: DatadogSandboxOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.org = options.org ?? 'acme';
    this.#admin = { id: generateDatadogKeyId(), handle: `admin@${this.org}.example`, name: 'Datadog Admin' };
    this.#users.set(this.#admin.id, this.#admin);
    this.adminApiKey = this.#mint('api_keys', 'keyledger', this.#admin.id, null).key;
    this.adminApplicationKey = this.#mint('application_keys', 'keyledger', this.#admin.id, null).key;
    const r = this.#router;
    r.add('GET', '/api/v1/validate', 'datadog:GET /api/v1/validate', (req) => this.#validate(req));
    r.add('GET', '/api/v2/api_keys', 'datadog:GET /api/v2/api_keys', (req) => this.#list(req, 'api_keys'));
    r.add('POST', '/api/v2/api_keys', 'datadog:POST /api/v2/api_keys', (req) => this.#create(req, 'api_keys'));
    r.add('GET', '/api/v2/api_keys/:id', 'datadog:GET /api/v2/api_keys/:id', (req, p) =>
      this.#get(req, 'api_keys', p.id!),
    );
    r.add('DELETE', '/api/v2/api_keys/:id', 'datadog:DELETE /api/v2/api_keys/:id', (req, p) =>
      this.#delete(req, 'api_keys', p.id!),
    );
    r.add('GET', '/api/v2/application_keys', 'datadog:GET /api/v2/application_keys', (req) =>
      this.#list(req, 'application_keys'),
    );
    r.add('GET', '/api/v2/application_keys/:id', 'datadog:GET /api/v2/application_keys/:id', (req, p) =>
      this.#get(req, 'application_keys', p.id!),
    );
    r.add('DELETE', '/api/v2/application_keys/:id', 'datadog:DELETE /api/v2/application_keys/:id', (req, p) =>
      this.#delete(req, 'application_keys', p.id!),
    );
    r.add('GET', '/api/v2/current_user/application_keys', 'datadog:GET /api/v2/current_user/application_keys', (req) =>
      this.#list(req, 'application_keys', true),
    );
    r.add(
      'POST',
      '/api/v2/current_user/application_keys',
      'datadog:POST /api/v2/current_user/application_keys',
      (req) => this.#create(req, 'application_keys'),
    );
    r.add('GET', '/api/v2/audit/events', 'datadog:GET /api/v2/audit/events', (req) => this.#auditEvents(req));
  }

  load(seed: SandboxSeed): void {
    const people = new Map(seed.people.map((person) => [person.email, person]));
    for (const seeded of seed.keys) {
      if (seeded.provider !== this.name) continue;
      let owner = this.#admin.id;
      const person = seeded.createdBy ? people.get(seeded.createdBy) : undefined;
      if (person) {
        const existing = [...this.#users.values()].find((user) => user.handle === person.email);
        const user = existing ?? { id: generateDatadogKeyId(), handle: person.email, name: person.name };
        this.#users.set(user.id, user);
        owner = user.id;
      }
      const kind = seeded.kind === 'application-key' ? 'application_keys' : 'api_keys';
      const key: DatadogKey = {
        kind,
        id: seeded.providerKeyId,
        name: seeded.name,
        key: seeded.secret,
        createdAt: new Date(seeded.createdAt),
        modifiedAt: new Date(seeded.createdAt),
        createdBy: owner,
        lastUsedAt: kind === 'application_keys' && seeded.lastUsedAt ? new Date(seeded.lastUsedAt) : null,
        scopes: kind === 'application_keys' ? (seeded.permissions.length ? seeded.permissions : null) : null,
        disabled: seeded.status !== 'active',
      };
      this.#keys.set(key.id, key);
      this.#keysBySecret.set(key.key, key);
      // An API key's last use lives in the Audit Trail: one historical request event stands for it.
      // A key several teams' services call is recorded from each of their addresses.
      if (kind === 'api_keys' && seeded.lastUsedAt) {
        for (const from of seeded.sharedUseFrom ?? ['203.0.113.10'])
          this.#record(new Date(seeded.lastUsedAt), 'Request', { api_key: { id: key.id } }, from, {
            method: 'POST',
            status_code: 202,
            url_details: { path: '/api/v2/series' },
          });
      }
    }
  }

  match(request: SandboxRequest): SandboxRouteMatch | undefined {
    return this.#router.match(request);
  }

  notFound(): SandboxAnswer {
    return { status: 404, body: { errors: ['Not found'] } };
  }

  rateLimited(retryAfter: string, status?: number): SandboxAnswer {
    // Datadog sends no Retry-After: X-RateLimit-Reset says how many seconds until the period resets.
    const seconds = /^\d+$/.test(retryAfter)
      ? Number(retryAfter)
      : Math.max(0, Math.ceil((Date.parse(retryAfter) - Date.now()) / 1000));
    return {
      status: status ?? 429,
      headers: {
        'x-ratelimit-limit': String(RATE_LIMIT_REQUESTS),
        'x-ratelimit-period': String(RATE_LIMIT_PERIOD_SECONDS),
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(seconds),
        'x-ratelimit-name': 'api_keys',
      },
      body: { errors: ['Too many requests'] },
    };
  }

  failure(status: number, echo?: string): SandboxAnswer {
    return { status, body: { errors: [`Internal Server Error${echo ? ` (DD-API-KEY ${echo})` : ''}`] } };
  }

  callerSecret(request: SandboxRequest): string | undefined {
    return header(request, 'dd-application-key') ?? header(request, 'dd-api-key');
  }

  /** Datadog limits per organisation. */
  rateLimitKey(): string {
    return this.org;
  }

  control(request: SandboxRequest, subpath: string): SandboxAnswer | undefined {
    if (request.method === 'GET' && subpath === 'admin-keys') {
      return { status: 200, body: { apiKey: this.adminApiKey, applicationKey: this.adminApplicationKey } };
    }
    return undefined;
  }

  auditLog(): DatadogAuditEvent[] {
    return [...this.#audit];
  }

  groundTruth(): unknown {
    return {
      org: this.org,
      keys: [...this.#keys.values()]
        .filter((key) => key.createdBy !== this.#admin.id || key.name !== 'keyledger')
        .map((key) => ({
          kind: key.kind,
          id: key.id,
          name: key.name,
          last4: key.key.slice(-4),
          lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
          disabled: key.disabled,
        })),
    };
  }

  #mint(kind: DatadogKey['kind'], name: string, createdBy: string, scopes: string[] | null): DatadogKey {
    const now = this.#clock();
    const key: DatadogKey = {
      kind,
      id: generateDatadogKeyId(),
      name,
      key: kind === 'api_keys' ? generateDatadogApiKey(Math.random) : generateDatadogApplicationKey(Math.random),
      createdAt: now,
      modifiedAt: now,
      createdBy,
      lastUsedAt: null,
      scopes,
      disabled: false,
    };
    this.#keys.set(key.id, key);
    this.#keysBySecret.set(key.key, key);
    return key;
  }

  #json(key: DatadogKey, full: boolean) {
    const relationships = {
      created_by: { data: { type: 'users', id: key.createdBy } },
      ...(key.kind === 'application_keys' ? { owned_by: { data: { type: 'users', id: key.createdBy } } } : {}),
    };
    return {
      type: key.kind,
      id: key.id,
      attributes: {
        name: key.name,
        created_at: key.createdAt.toISOString(),
        last4: key.key.slice(-4),
        ...(key.kind === 'api_keys'
          ? { modified_at: key.modifiedAt.toISOString(), remote_config_read_enabled: false, category: 'default' }
          : { scopes: key.scopes, last_used_at: key.lastUsedAt?.toISOString() ?? null }),
        // Datadog shows the whole key when one is fetched by id (and on creation), never in lists.
        ...(full ? { key: key.key } : {}),
      },
      relationships,
    };
  }

  #keyOf(secret: string | undefined, kind: DatadogKey['kind']): DatadogKey | undefined {
    const key = secret ? this.#keysBySecret.get(secret) : undefined;
    return key && key.kind === kind && !key.disabled && this.#keys.has(key.id) ? key : undefined;
  }

  /** Management calls need an API key and an application key; the application key's use is recorded. */
  #authenticate(
    request: SandboxRequest,
  ): { apiKey: DatadogKey; appKey: DatadogKey; user: DatadogUser } | SandboxAnswer {
    const apiKey = this.#keyOf(header(request, 'dd-api-key'), 'api_keys');
    const appKey = this.#keyOf(header(request, 'dd-application-key'), 'application_keys');
    if (!apiKey || !appKey) return { status: 403, body: { errors: ['Forbidden'] } };
    const now = this.#clock();
    appKey.lastUsedAt = now;
    this.#requestEvent(request, now, { api_key: { id: apiKey.id }, application_key: { id: appKey.id } });
    return { apiKey, appKey, user: this.#users.get(appKey.createdBy) ?? this.#admin };
  }

  #validate(request: SandboxRequest): SandboxAnswer {
    const apiKey = this.#keyOf(header(request, 'dd-api-key'), 'api_keys');
    if (!apiKey) return { status: 403, body: { errors: ['Forbidden'] } };
    this.#requestEvent(request, this.#clock(), { api_key: { id: apiKey.id } });
    return { status: 200, body: { valid: true } };
  }

  #list(request: SandboxRequest, kind: DatadogKey['kind'], currentUserOnly = false): SandboxAnswer {
    const auth = this.#authenticate(request);
    if ('status' in auth) return auth;
    const size = Number(request.query.get('page[size]') ?? 10);
    const number = Number(request.query.get('page[number]') ?? 0);
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
      return { status: 400, body: { errors: [`page[size] must be between 1 and ${MAX_PAGE_SIZE}`] } };
    }
    if (!Number.isInteger(number) || number < 0) return { status: 400, body: { errors: ['Invalid page[number]'] } };
    const filter = request.query.get('filter');
    const keys = [...this.#keys.values()].filter(
      (key) =>
        key.kind === kind &&
        (!currentUserOnly || key.createdBy === auth.user.id) &&
        (!filter || key.name.includes(filter)),
    );
    const page = keys.slice(number * size, (number + 1) * size);
    return {
      status: 200,
      headers: this.#rateHeaders(),
      body: {
        data: page.map((key) => this.#json(key, false)),
        meta: { page: { total_filtered_count: keys.length } },
      },
    };
  }

  #get(request: SandboxRequest, kind: DatadogKey['kind'], id: string): SandboxAnswer {
    const auth = this.#authenticate(request);
    if ('status' in auth) return auth;
    const key = this.#keys.get(id);
    if (!key || key.kind !== kind) return this.#missing(kind);
    return { status: 200, headers: this.#rateHeaders(), body: { data: this.#json(key, true) } };
  }

  #create(request: SandboxRequest, kind: DatadogKey['kind']): SandboxAnswer {
    const auth = this.#authenticate(request);
    if ('status' in auth) return auth;
    let body: { data?: { type?: string; attributes?: { name?: string; scopes?: string[] | null } } };
    try {
      body = JSON.parse(request.text || '{}') as typeof body;
    } catch {
      return { status: 400, body: { errors: ['Invalid JSON'] } };
    }
    if (body.data?.type !== kind) return { status: 400, body: { errors: [`Invalid type, expected ${kind}`] } };
    const name = body.data.attributes?.name;
    if (!name) return { status: 400, body: { errors: ['name is required'] } };
    const key = this.#mint(
      kind,
      name,
      auth.user.id,
      kind === 'application_keys' ? (body.data.attributes?.scopes ?? null) : null,
    );
    this.#changeEvent(request, auth, key, 'created');
    return { status: 201, headers: this.#rateHeaders(), body: { data: this.#json(key, true) } };
  }

  #delete(request: SandboxRequest, kind: DatadogKey['kind'], id: string): SandboxAnswer {
    const auth = this.#authenticate(request);
    if ('status' in auth) return auth;
    const key = this.#keys.get(id);
    if (!key || key.kind !== kind) return this.#missing(kind);
    this.#keys.delete(id);
    this.#keysBySecret.delete(key.key);
    this.#changeEvent(request, auth, key, 'deleted');
    return { status: 204 };
  }

  #missing(kind: DatadogKey['kind']): SandboxAnswer {
    return { status: 404, body: { errors: [kind === 'api_keys' ? 'API key not found' : 'Application key not found'] } };
  }

  /** `filter[query]` understands `@metadata.api_key.id:<id>`, `@metadata.application_key.id:<id>` and `*`. */
  #auditEvents(request: SandboxRequest): SandboxAnswer {
    const auth = this.#authenticate(request);
    if ('status' in auth) return auth;
    const query = (request.query.get('filter[query]') ?? '*').trim();
    const limit = Math.min(1000, Math.max(1, Number(request.query.get('page[limit]') ?? 10) || 10));
    const descending = request.query.get('sort') === '-timestamp';
    const cursor = Number(request.query.get('page[cursor]') ?? 0) || 0;
    // The request being served is itself audited: leave it out, as Datadog's index lags behind the request.
    const terms = query === '*' ? [] : query.split(/\s+AND\s+/);
    const matching = this.#audit.slice(0, -1).filter((event) =>
      terms.every((term) => {
        const [field, value] = term.split(/:(.*)/s) as [string, string];
        const metadata = event.attributes.attributes.metadata;
        if (field === '@metadata.api_key.id') return metadata.api_key?.id === value;
        if (field === '@metadata.application_key.id') return metadata.application_key?.id === value;
        if (field === '@evt.name') return event.attributes.attributes.evt.name === value;
        return false;
      }),
    );
    const ordered = [...matching].sort((a, b) =>
      descending
        ? b.attributes.timestamp.localeCompare(a.attributes.timestamp)
        : a.attributes.timestamp.localeCompare(b.attributes.timestamp),
    );
    const page = ordered.slice(cursor, cursor + limit);
    const after = cursor + limit < ordered.length ? String(cursor + limit) : undefined;
    return {
      status: 200,
      headers: this.#rateHeaders(),
      body: {
        data: page,
        meta: {
          status: 'done',
          elapsed: 12,
          request_id: `req-${this.#nextEvent}`,
          ...(after ? { page: { after } } : {}),
        },
        ...(after ? { links: { next: `/api/v2/audit/events?page[cursor]=${after}` } } : {}),
      },
    };
  }

  #rateHeaders(): Record<string, string> {
    return {
      'x-ratelimit-limit': String(RATE_LIMIT_REQUESTS),
      'x-ratelimit-period': String(RATE_LIMIT_PERIOD_SECONDS),
      'x-ratelimit-remaining': String(RATE_LIMIT_REQUESTS - 1),
      'x-ratelimit-reset': String(RATE_LIMIT_PERIOD_SECONDS),
      'x-ratelimit-name': 'api_keys',
    };
  }

  #requestEvent(
    request: SandboxRequest,
    at: Date,
    metadata: DatadogAuditEvent['attributes']['attributes']['metadata'],
  ): void {
    this.#record(at, 'Request', metadata, clientIp(request), {
      method: request.method,
      status_code: 200,
      url_details: { path: request.path },
    });
  }

  #changeEvent(
    request: SandboxRequest,
    auth: { apiKey: DatadogKey; appKey: DatadogKey; user: DatadogUser },
    key: DatadogKey,
    action: 'created' | 'deleted',
  ): void {
    const asset = key.kind === 'api_keys' ? 'api_key' : 'application_key';
    this.#audit.push({
      id: this.#eventId(),
      type: 'audit',
      attributes: {
        timestamp: this.#clock().toISOString(),
        service: 'datadog',
        message: `${auth.user.handle} ${action} the ${asset === 'api_key' ? 'API key' : 'application key'} ${key.name}.`,
        tags: ['source:datadog', `asset_type:${asset}`],
        attributes: {
          evt: { name: key.kind === 'api_keys' ? 'API key' : 'Application key', actor: { type: 'USER' } },
          action,
          asset: { type: asset, id: key.id, name: key.name },
          usr: { id: auth.user.id, handle: auth.user.handle, name: auth.user.name },
          metadata: { api_key: { id: auth.apiKey.id }, application_key: { id: auth.appKey.id } },
          network: { client: { ip: clientIp(request) } },
        },
      },
    });
  }

  #record(
    at: Date,
    name: string,
    metadata: DatadogAuditEvent['attributes']['attributes']['metadata'],
    ip: string,
    http: NonNullable<DatadogAuditEvent['attributes']['attributes']['http']>,
  ): void {
    this.#audit.push({
      id: this.#eventId(),
      type: 'audit',
      attributes: {
        timestamp: at.toISOString(),
        service: 'datadog',
        message: `${http.method} ${http.url_details.path}`,
        tags: ['source:datadog', 'evt.name:request'],
        attributes: { evt: { name }, metadata, http, network: { client: { ip } } },
      },
    });
  }

  #eventId(): string {
    return `AQAAAY${String(this.#nextEvent++).padStart(16, '0')}`;
  }
}

function header(request: SandboxRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function clientIp(request: SandboxRequest): string {
  return request.remoteAddress.replace(/^::ffff:/, '');
}
