// A local Stripe API for what can be done with a Stripe key by API — prove it works (`GET /v1/balance`,
// `GET /v1/account`) — and nothing more: Stripe has no API that creates, lists, rolls or revokes secret or restricted
// keys (the Dashboard does), so neither does the sandbox. Its control API stands in for the Dashboard: plant a key,
// roll one (the old one expires). Errors are Stripe's `{error: {message, type, code}}` with the key shown as
// `sk_live_****abcd`; a restricted key without the permission gets 403 with the permission's name. Stripe exposes
// no log of which key made a request (the Dashboard's request logs only): the audit log is empty.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../../runtime/clock.js';
import { systemClock } from '../../../runtime/clock.js';
import { SandboxPathRouter } from '../../sandbox-path-router.js';
import type { SandboxSeed } from '../../sandbox-seed.js';
import { BASE62, randomString } from '../../sandbox-seed.js';
import type { SandboxAnswer, SandboxProvider, SandboxRequest, SandboxRouteMatch } from '../../sandbox-server.js';
import {
  generateStripeKey,
  keyledgerStripeKeyId,
  redactedStripeKey,
  type StripeKeyPrefix,
} from './stripe-key-format.js';

export interface StripeSandboxOptions {
  clock?: Clock;
}

interface StripeKey {
  secret: string;
  account: string;
  livemode: boolean;
  restricted: boolean;
  /** Restricted keys: Stripe's permission names (`rak_balance_read`, `rak_charge_write`...). */
  permissions: string[];
  /** Set when the key was rolled in the Dashboard: it stops working at this time. */
  expiresAt: Date | null;
}

export class StripeSandbox implements SandboxProvider {
  readonly name = 'stripe';
  readonly #clock: Clock;
  readonly #router = new SandboxPathRouter();
  readonly #keys = new Map<string, StripeKey>();

  constructor(options: StripeSandboxOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#router.add('GET', '/v1/balance', 'stripe:GET /v1/balance', (req) => this.#balance(req));
    this.#router.add('GET', '/v1/account', 'stripe:GET /v1/account', (req) => this.#account(req));
  }

  load(seed: SandboxSeed): void {
    for (const seeded of seed.keys) {
      if (seeded.provider !== this.name || seeded.status !== 'active') continue;
      this.#keys.set(seeded.secret, {
        secret: seeded.secret,
        account: seeded.account,
        livemode: seeded.secret.includes('_live_'),
        restricted: seeded.secret.startsWith('rk_'),
        permissions: seeded.permissions.map(stripePermission),
        expiresAt: null,
      });
    }
  }

  /** Plants a key as the Dashboard would create it. */
  plant(input: { account?: string; restricted?: boolean; livemode?: boolean; permissions?: string[] } = {}): StripeKey {
    const prefix = `${input.restricted ? 'rk' : 'sk'}_${input.livemode === false ? 'test' : 'live'}` as StripeKeyPrefix;
    const key: StripeKey = {
      secret: generateStripeKey(prefix, Math.random),
      account: input.account ?? `acct_${randomString(BASE62, 16, Math.random)}`,
      livemode: input.livemode !== false,
      restricted: input.restricted === true,
      permissions: (input.permissions ?? []).map(stripePermission),
      expiresAt: null,
    };
    this.#keys.set(key.secret, key);
    return key;
  }

  match(request: SandboxRequest): SandboxRouteMatch | undefined {
    return this.#router.match(request);
  }

  notFound(request: SandboxRequest): SandboxAnswer {
    return stripeError(404, `Unrecognized request URL (${request.method}: ${request.path}).`, 'invalid_request_error');
  }

  /** Stripe answers 429 `rate_limit`; it documents no Retry-After — the sandbox adds one for the shared contract. */
  rateLimited(retryAfter: string, status?: number): SandboxAnswer {
    const answer = stripeError(
      status ?? 429,
      'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
      'invalid_request_error',
      'rate_limit',
    );
    return { ...answer, headers: { ...answer.headers, 'retry-after': retryAfter, 'stripe-should-retry': 'true' } };
  }

  failure(status: number, echo?: string): SandboxAnswer {
    return stripeError(status, `An unknown error occurred${echo ? ` (key ${echo})` : ''}`, 'api_error');
  }

  callerSecret(request: SandboxRequest): string | undefined {
    return keyOf(request);
  }

  /** Stripe limits per account. */
  rateLimitKey(request: SandboxRequest): string {
    const secret = keyOf(request);
    return (secret && this.#keys.get(secret)?.account) ?? request.remoteAddress;
  }

  /** The Dashboard: `POST keys` plants a key, `POST keys/roll` rolls one (`{secret, expiresInSeconds?}`). */
  control(request: SandboxRequest, subpath: string): SandboxAnswer | undefined {
    if (request.method !== 'POST') return undefined;
    const body = JSON.parse(request.text || '{}') as {
      account?: string;
      restricted?: boolean;
      livemode?: boolean;
      permissions?: string[];
      secret?: string;
      expiresInSeconds?: number;
    };
    if (subpath === 'keys') {
      const key = this.plant(body);
      return {
        status: 201,
        body: { secret: key.secret, account: key.account, providerKeyId: keyledgerStripeKeyId(key.secret) },
      };
    }
    if (subpath === 'keys/roll') {
      const old = body.secret ? this.#keys.get(body.secret) : undefined;
      if (!old) return { status: 404, body: { error: 'no such key' } };
      old.expiresAt = new Date(this.#clock().getTime() + (body.expiresInSeconds ?? 0) * 1000);
      const fresh = this.plant({
        account: old.account,
        restricted: old.restricted,
        livemode: old.livemode,
        permissions: old.permissions,
      });
      return {
        status: 201,
        body: { secret: fresh.secret, account: fresh.account, providerKeyId: keyledgerStripeKeyId(fresh.secret) },
      };
    }
    return undefined;
  }

  auditLog(): unknown[] {
    return [];
  }

  groundTruth(): unknown {
    return {
      keys: [...this.#keys.values()].map((key) => ({
        id: keyledgerStripeKeyId(key.secret),
        account: key.account,
        livemode: key.livemode,
        restricted: key.restricted,
        expiresAt: key.expiresAt?.toISOString() ?? null,
      })),
    };
  }

  #authenticate(request: SandboxRequest, permission: string): StripeKey | SandboxAnswer {
    const secret = keyOf(request);
    if (!secret) {
      return stripeError(
        401,
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        'invalid_request_error',
      );
    }
    const key = this.#keys.get(secret);
    if (!key)
      return stripeError(
        401,
        `Invalid API Key provided: ${redactedStripeKey(secret)}`,
        'invalid_request_error',
        'api_key_invalid',
      );
    if (key.expiresAt && key.expiresAt <= this.#clock()) {
      return stripeError(
        401,
        `Expired API Key provided: ${redactedStripeKey(secret)}`,
        'invalid_request_error',
        'api_key_expired',
      );
    }
    if (key.restricted && !key.permissions.includes(permission)) {
      return stripeError(
        403,
        `The provided key '${redactedStripeKey(secret)}' does not have the required permissions for this endpoint on account '${key.account}'. Having the '${permission}' permission would allow this request to continue.`,
        'invalid_request_error',
      );
    }
    return key;
  }

  #balance(request: SandboxRequest): SandboxAnswer {
    const key = this.#authenticate(request, 'rak_balance_read');
    if (isAnswer(key)) return key;
    return {
      status: 200,
      headers: requestHeaders(),
      body: {
        object: 'balance',
        available: [{ amount: 0, currency: 'usd', source_types: { card: 0 } }],
        livemode: key.livemode,
        pending: [{ amount: 0, currency: 'usd', source_types: { card: 0 } }],
      },
    };
  }

  #account(request: SandboxRequest): SandboxAnswer {
    const key = this.#authenticate(request, 'rak_account_read');
    if (isAnswer(key)) return key;
    return {
      status: 200,
      headers: requestHeaders(),
      body: { id: key.account, object: 'account', charges_enabled: true },
    };
  }
}

/** `balance:read` (the registry's words) -> `rak_balance_read` (Stripe's); Stripe's names pass through. */
function stripePermission(permission: string): string {
  if (permission.startsWith('rak_')) return permission;
  const [resource, access] = permission.split(':');
  return `rak_${(resource ?? '').replace(/s$/, '')}_${access ?? 'read'}`;
}

function isAnswer(value: StripeKey | SandboxAnswer): value is SandboxAnswer {
  return typeof (value as SandboxAnswer).status === 'number';
}

function requestHeaders(): Record<string, string> {
  return { 'request-id': `req_${randomBytes(7).toString('hex')}`, 'stripe-version': '2024-06-20' };
}

function stripeError(status: number, message: string, type: string, code?: string): SandboxAnswer {
  return {
    status,
    headers: requestHeaders(),
    body: {
      error: {
        message,
        type,
        ...(code ? { code } : {}),
        request_log_url: `https://dashboard.stripe.com/logs/req_${randomBytes(7).toString('hex')}`,
      },
    },
  };
}

/** Stripe takes the key as Bearer, or as the username of basic auth (what its libraries send). */
function keyOf(request: SandboxRequest): string | undefined {
  const header = request.headers.authorization?.trim() ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+(\S+)$/i.exec(header);
  if (basic) return Buffer.from(basic[1]!, 'base64').toString('utf8').split(':')[0] || undefined;
  return undefined;
}
