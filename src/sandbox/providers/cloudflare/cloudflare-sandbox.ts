// A local Cloudflare API (`/client/v4`) for user API tokens: create, list (paged by `page`/`per_page` with
// `result_info`), get, delete, verify (`GET /user/tokens/verify` with the token as Bearer), and roll
// (`PUT /user/tokens/{id}/value`: a new value, the old one refused from that moment). Every answer is Cloudflare's
// envelope `{success, errors, messages, result}`; `last_used_on` moves whenever a token authenticates; 429s carry
// `Retry-After` and the `Ratelimit` header; audit-log records follow `GET /accounts/{id}/audit_logs`.
import type { Clock } from '../../../runtime/clock.js';
import { systemClock } from '../../../runtime/clock.js';
import { bearerToken } from '../../sandbox-credentials.js';
import { SandboxPathRouter } from '../../sandbox-path-router.js';
import type { SandboxSeed } from '../../sandbox-seed.js';
import type { SandboxAnswer, SandboxProvider, SandboxRequest, SandboxRouteMatch } from '../../sandbox-server.js';
import { generateCloudflareTokenId, generateCloudflareUserToken } from './cloudflare-key-format.js';

const API = '/client/v4';
const MAX_PER_PAGE = 50;
/** 1,200 requests per five minutes per user. */
const RATE_LIMIT_WINDOW_SECONDS = 300;
const RATE_LIMIT_REQUESTS = 1200;

export interface CloudflareSandboxOptions {
  clock?: Clock;
}

interface CloudflarePolicy {
  id: string;
  effect: 'allow' | 'deny';
  resources: Record<string, string>;
  permission_groups: Array<{ id: string; name?: string }>;
}

interface CloudflareToken {
  id: string;
  name: string;
  value: string;
  status: 'active' | 'disabled' | 'expired';
  issuedOn: Date;
  modifiedOn: Date;
  lastUsedOn: Date | null;
  expiresOn: Date | null;
  notBefore: Date | null;
  policies: CloudflarePolicy[];
  /** Tokens that may manage the user's tokens (the adapter's own). */
  canManageTokens: boolean;
}

/** An audit-log record as `GET /accounts/{account_id}/audit_logs` returns it. */
export interface CloudflareAuditRecord {
  id: string;
  action: { type: 'create' | 'delete' | 'roll'; result: boolean };
  actor: { id: string; email: string; type: 'user'; ip: string };
  interface: 'API';
  metadata: Record<string, unknown>;
  newValue: string;
  oldValue: string;
  owner: { id: string };
  resource: { id: string; type: 'API_Token' };
  when: string;
}

export class CloudflareSandbox implements SandboxProvider {
  readonly name = 'cloudflare';
  readonly userId = '7c5dae5552338874e5053f2534d2767a';
  readonly userEmail = 'keyledger@example.com';
  /** The adapter's credential: a token with "API Tokens Write". */
  readonly adminToken: string;
  readonly #clock: Clock;
  readonly #router = new SandboxPathRouter();
  readonly #tokens = new Map<string, CloudflareToken>();
  readonly #byValue = new Map<string, CloudflareToken>();
  readonly #audit: CloudflareAuditRecord[] = [];
  #nextAudit = 1;

  constructor(options: CloudflareSandboxOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.adminToken = this.#mint('keyledger', [], null, true).value;
    const r = this.#router;
    r.add('GET', `${API}/user/tokens/verify`, 'cloudflare:GET /user/tokens/verify', (req) => this.#verify(req));
    r.add('GET', `${API}/user/tokens`, 'cloudflare:GET /user/tokens', (req) => this.#list(req));
    r.add('POST', `${API}/user/tokens`, 'cloudflare:POST /user/tokens', (req) => this.#create(req));
    r.add('GET', `${API}/user/tokens/:id`, 'cloudflare:GET /user/tokens/{id}', (req, p) => this.#get(req, p.id!));
    r.add('DELETE', `${API}/user/tokens/:id`, 'cloudflare:DELETE /user/tokens/{id}', (req, p) =>
      this.#delete(req, p.id!),
    );
    r.add('PUT', `${API}/user/tokens/:id/value`, 'cloudflare:PUT /user/tokens/{id}/value', (req, p) =>
      this.#roll(req, p.id!),
    );
  }

  load(seed: SandboxSeed): void {
    for (const seeded of seed.keys) {
      if (seeded.provider !== this.name) continue;
      const token: CloudflareToken = {
        id: seeded.providerKeyId,
        name: seeded.name,
        value: seeded.secret,
        status: seeded.status === 'active' ? 'active' : 'disabled',
        issuedOn: new Date(seeded.createdAt),
        modifiedOn: new Date(seeded.createdAt),
        lastUsedOn: seeded.lastUsedAt ? new Date(seeded.lastUsedAt) : null,
        expiresOn: seeded.expiresAt ? new Date(seeded.expiresAt) : null,
        notBefore: null,
        policies: [
          {
            id: generateCloudflareTokenId(Math.random),
            effect: 'allow',
            resources: { [`com.cloudflare.api.account.zone.${seeded.account}`]: '*' },
            permission_groups: seeded.permissions.map((name) => ({ id: generateCloudflareTokenId(Math.random), name })),
          },
        ],
        canManageTokens: false,
      };
      this.#tokens.set(token.id, token);
      this.#byValue.set(token.value, token);
    }
  }

  match(request: SandboxRequest): SandboxRouteMatch | undefined {
    return this.#router.match(request);
  }

  notFound(): SandboxAnswer {
    return envelopeError(404, 7003, 'Could not route to /client/v4, perhaps your object identifier is invalid?');
  }

  rateLimited(retryAfter: string, status?: number): SandboxAnswer {
    const answer = envelopeError(status ?? 429, 971, 'Please wait and consider throttling your request speed');
    const seconds = /^\d+$/.test(retryAfter) ? retryAfter : '60';
    return {
      ...answer,
      headers: {
        'retry-after': retryAfter,
        ratelimit: `"default";r=0;t=${seconds}`,
        'ratelimit-policy': `"default";q=${RATE_LIMIT_REQUESTS};w=${RATE_LIMIT_WINDOW_SECONDS}`,
      },
    };
  }

  failure(status: number, echo?: string): SandboxAnswer {
    return envelopeError(status, 10001, `Internal server error${echo ? ` (Bearer ${echo})` : ''}`);
  }

  callerSecret(request: SandboxRequest): string | undefined {
    return bearerToken(request);
  }

  /** Cloudflare's limit is per user; every token here belongs to the one user. */
  rateLimitKey(): string {
    return this.userId;
  }

  auditLog(): CloudflareAuditRecord[] {
    return [...this.#audit];
  }

  groundTruth(): unknown {
    return {
      user: this.userId,
      tokens: [...this.#tokens.values()]
        .filter((token) => !token.canManageTokens)
        .map((token) => ({ id: token.id, name: token.name, status: token.status, lastUsedOn: iso(token.lastUsedOn) })),
    };
  }

  #mint(name: string, policies: CloudflarePolicy[], expiresOn: Date | null, canManageTokens = false): CloudflareToken {
    const now = this.#clock();
    const token: CloudflareToken = {
      id: generateCloudflareTokenId(Math.random),
      name,
      value: generateCloudflareUserToken(Math.random),
      status: 'active',
      issuedOn: now,
      modifiedOn: now,
      lastUsedOn: null,
      expiresOn,
      notBefore: null,
      policies,
      canManageTokens,
    };
    this.#tokens.set(token.id, token);
    this.#byValue.set(token.value, token);
    return token;
  }

  /** The token a request carries, if it is live; its use is recorded (`last_used_on`). */
  #authenticate(request: SandboxRequest): CloudflareToken | undefined {
    const value = bearerToken(request);
    const token = value ? this.#byValue.get(value) : undefined;
    if (token?.status !== 'active') return undefined;
    if (token.expiresOn && token.expiresOn <= this.#clock()) return undefined;
    token.lastUsedOn = this.#clock();
    return token;
  }

  #manager(request: SandboxRequest): CloudflareToken | SandboxAnswer {
    const token = this.#authenticate(request);
    if (!token) return envelopeError(401, 9109, 'Invalid access token');
    if (!token.canManageTokens) return envelopeError(403, 9109, 'Unauthorized to access requested resource');
    return token;
  }

  #json(token: CloudflareToken) {
    return {
      id: token.id,
      name: token.name,
      status: token.status,
      issued_on: iso(token.issuedOn),
      modified_on: iso(token.modifiedOn),
      last_used_on: iso(token.lastUsedOn),
      ...(token.expiresOn ? { expires_on: iso(token.expiresOn) } : {}),
      ...(token.notBefore ? { not_before: iso(token.notBefore) } : {}),
      policies: token.policies,
      condition: {},
    };
  }

  #verify(request: SandboxRequest): SandboxAnswer {
    const token = this.#authenticate(request);
    if (!token) return envelopeError(401, 1000, 'Invalid API Token');
    return ok(
      { id: token.id, status: token.status, ...(token.expiresOn ? { expires_on: iso(token.expiresOn) } : {}) },
      [{ code: 10000, message: 'This API Token is valid and active', type: null }],
    );
  }

  #list(request: SandboxRequest): SandboxAnswer {
    const auth = this.#manager(request);
    if (isAnswer(auth)) return auth;
    const perPage = Number(request.query.get('per_page') ?? 20);
    const page = Number(request.query.get('page') ?? 1);
    if (!Number.isInteger(perPage) || perPage < 5 || perPage > MAX_PER_PAGE || !Number.isInteger(page) || page < 1) {
      return envelopeError(400, 1001, `per_page must be between 5 and ${MAX_PER_PAGE}, page at least 1`);
    }
    const tokens = [...this.#tokens.values()];
    const slice = tokens.slice((page - 1) * perPage, page * perPage);
    const result_info = {
      page,
      per_page: perPage,
      count: slice.length,
      total_count: tokens.length,
      total_pages: Math.max(1, Math.ceil(tokens.length / perPage)),
    };
    const answer = ok(slice.map((token) => this.#json(token)));
    return { ...answer, body: { ...(answer.body as object), result_info } };
  }

  #get(request: SandboxRequest, id: string): SandboxAnswer {
    const auth = this.#manager(request);
    if (isAnswer(auth)) return auth;
    const token = this.#tokens.get(id);
    return token ? ok(this.#json(token)) : envelopeError(404, 1003, 'Invalid token id');
  }

  #create(request: SandboxRequest): SandboxAnswer {
    const auth = this.#manager(request);
    if (isAnswer(auth)) return auth;
    let body: { name?: unknown; policies?: unknown; expires_on?: unknown };
    try {
      body = JSON.parse(request.text || '{}') as typeof body;
    } catch {
      return envelopeError(400, 1001, 'Invalid request: malformed JSON');
    }
    if (typeof body.name !== 'string' || body.name === '' || body.name.length > 120) {
      return envelopeError(400, 1001, 'Invalid request: name must be 1 to 120 characters');
    }
    if (!Array.isArray(body.policies) || body.policies.length === 0) {
      return envelopeError(400, 1001, 'Invalid request: at least one policy is required');
    }
    const policies: CloudflarePolicy[] = [];
    for (const raw of body.policies as Array<Partial<CloudflarePolicy>>) {
      if (
        (raw.effect !== 'allow' && raw.effect !== 'deny') ||
        !raw.resources ||
        typeof raw.resources !== 'object' ||
        !Array.isArray(raw.permission_groups) ||
        raw.permission_groups.length === 0 ||
        !raw.permission_groups.every((group) => typeof group?.id === 'string')
      ) {
        return envelopeError(400, 1001, 'Invalid request: each policy needs effect, resources and permission_groups');
      }
      policies.push({ ...(raw as CloudflarePolicy), id: generateCloudflareTokenId(Math.random) });
    }
    const expiresOn = typeof body.expires_on === 'string' ? new Date(body.expires_on) : null;
    if (expiresOn && Number.isNaN(expiresOn.getTime())) {
      return envelopeError(400, 1001, 'Invalid request: expires_on is not a date');
    }
    const token = this.#mint(body.name, policies, expiresOn);
    this.#record(request, 'create', token);
    return { ...ok({ ...this.#json(token), value: token.value }), status: 200 };
  }

  #delete(request: SandboxRequest, id: string): SandboxAnswer {
    const auth = this.#manager(request);
    if (isAnswer(auth)) return auth;
    const token = this.#tokens.get(id);
    if (!token) return envelopeError(404, 1003, 'Invalid token id');
    this.#tokens.delete(id);
    this.#byValue.delete(token.value);
    this.#record(request, 'delete', token);
    return ok({ id });
  }

  /** Rolls the secret in place: same id, name and policies; the old value stops working now. */
  #roll(request: SandboxRequest, id: string): SandboxAnswer {
    const auth = this.#manager(request);
    if (isAnswer(auth)) return auth;
    const token = this.#tokens.get(id);
    if (!token) return envelopeError(404, 1003, 'Invalid token id');
    this.#byValue.delete(token.value);
    token.value = generateCloudflareUserToken(Math.random);
    token.modifiedOn = this.#clock();
    this.#byValue.set(token.value, token);
    this.#record(request, 'roll', token);
    return ok(token.value);
  }

  #record(request: SandboxRequest, type: CloudflareAuditRecord['action']['type'], token: CloudflareToken): void {
    this.#audit.push({
      id: `${String(this.#nextAudit++).padStart(8, '0')}-0000-4000-8000-${this.userId.slice(0, 12)}`,
      action: { type, result: true },
      actor: {
        id: this.userId,
        email: this.userEmail,
        type: 'user',
        ip: request.remoteAddress.replace(/^::ffff:/, ''),
      },
      interface: 'API',
      metadata: { token_name: token.name },
      newValue: '',
      oldValue: '',
      owner: { id: this.userId },
      resource: { id: token.id, type: 'API_Token' },
      when: this.#clock().toISOString(),
    });
  }
}

/** A refusal rather than a token (a token has a `status` too, a string). */
function isAnswer(value: CloudflareToken | SandboxAnswer): value is SandboxAnswer {
  return typeof value.status === 'number';
}

function ok(result: unknown, messages: unknown[] = []): SandboxAnswer {
  return { status: 200, body: { success: true, errors: [], messages, result } };
}

function envelopeError(status: number, code: number, message: string): SandboxAnswer {
  return { status, body: { success: false, errors: [{ code, message }], messages: [], result: null } };
}

function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}
