// API tokens: registry keys of the `internal` provider (src/providers/internal/), so they are listed, rotated,
// revoked and audited like any key, plus a grant row (table api_tokens, migration 0015) saying what the token may
// do — a team, a role, scopes. At rest there is only the provider's keyed SHA-256 of the token (HMAC-SHA-256 in
// internal_keys) and, as for every key, the secret in the configured secret store, which rotation needs to hand
// the new token over. `create` returns the token once; nothing else ever prints it.
//
// A token's internal key hangs off the account `api-token:<key_id>`: the account survives rotation (the rotator
// mints the successor in the same account), so a rotated token still leads to its grant.
import type { KeyledgerApp } from '../../app/keyledger-app.js';
import { KeyledgerError } from '../../errors/keyledger-error.js';
import { generateKeyId, type IssuedKey } from '../../lifecycle/key-issuance.js';
import type { Clock } from '../../runtime/clock.js';
import type { SecretValue } from '../../secrets/secret-value.js';
import { type Principal, ROLES, type Role } from '../access.js';

/** What a token may be granted; `*` is every scope (a broad permission: the policy wants a justification). */
export const API_TOKEN_SCOPES = [
  'keys:read',
  'keys:write',
  'events:read',
  'people:read',
  'audit:read',
  'tokens:write',
  'teams:write',
  '*',
] as const;
export type ApiTokenScope = (typeof API_TOKEN_SCOPES)[number];

export const API_TOKEN_PROVIDER = 'internal';
const ACCOUNT_PREFIX = 'api-token:';

export interface CreateApiTokenRequest {
  team: string;
  role: Role;
  scopes: readonly string[];
  /** Days until the token stops working. */
  expiresInDays: number;
  /** The person the token's registry entry names as owner. */
  owner: string;
  purpose?: string;
  /** Why broad scopes (`*`) are needed: the policy refuses them without one, as for any key. */
  justification?: string;
  actor: string;
}

export interface CreatedApiToken {
  keyId: string;
  /** Shown once. */
  token: SecretValue;
  expiresAt: string;
  team: string;
  role: Role;
  scopes: string[];
  issued: IssuedKey;
}

export interface ApiTokenGrant {
  keyId: string;
  team: string;
  role: Role;
  scopes: string[];
  createdAt: string;
  createdBy: string;
}

/** Why a presented token was refused: the reasons are told apart in events, never to the caller beyond expiry. */
export type TokenRefusal = 'malformed' | 'unknown' | 'revoked' | 'expired' | 'no-grant';

export class ApiTokenError extends KeyledgerError {
  constructor(code: string, message: string) {
    super(code, message, { category: 'input' });
  }
}

export class ApiTokens {
  readonly #app: KeyledgerApp;
  readonly #clock: Clock;

  constructor(app: KeyledgerApp, clock: Clock) {
    this.#app = app;
    this.#clock = clock;
  }

  /** Issues the token through the same issuance as any key, then records its grant; undone if the grant fails. */
  async create(request: CreateApiTokenRequest): Promise<CreatedApiToken> {
    if (!(ROLES as readonly string[]).includes(request.role))
      throw new ApiTokenError('E_TOKEN_ROLE', `role must be one of ${ROLES.join(', ')}; got "${request.role}"`);
    const unknown = request.scopes.filter((scope) => !(API_TOKEN_SCOPES as readonly string[]).includes(scope));
    if (unknown.length > 0 || request.scopes.length === 0)
      throw new ApiTokenError(
        'E_TOKEN_SCOPE',
        `scopes must be some of ${API_TOKEN_SCOPES.join(', ')}; got ${request.scopes.length ? unknown.join(', ') : 'none'}`,
      );
    if (!Number.isInteger(request.expiresInDays) || request.expiresInDays < 1)
      throw new ApiTokenError('E_TOKEN_EXPIRY', 'a token expires after a whole number of days, at least 1');
    const purpose = request.purpose ?? `API token (${request.role})`;
    const keyId = generateKeyId({ team: request.team, provider: API_TOKEN_PROVIDER, purpose: 'api token' });
    const issued = await this.#app.issuer().issue({
      provider: API_TOKEN_PROVIDER,
      team: request.team,
      owner: request.owner,
      purpose,
      permissions: [...request.scopes],
      account: `${ACCOUNT_PREFIX}${keyId}`,
      expiresInDays: request.expiresInDays,
      keyId,
      tags: ['api-token', `role:${request.role}`],
      ...(request.justification ? { justification: request.justification } : {}),
      actor: request.actor,
    });
    try {
      const stored = await this.#app.secretStore(issued.store).get(issued.path);
      if (!stored) throw new Error(`the token's secret is not at ${issued.store}:${issued.path}`);
      await this.#app.operational.db
        .insertInto('api_tokens')
        .values({
          key_id: keyId,
          team: request.team,
          role: request.role,
          scopes: JSON.stringify([...request.scopes]),
          created_at: this.#clock().toISOString(),
          created_by: request.actor,
        })
        .execute();
      await this.#app.events.append({
        type: 'api_token.created',
        actor: request.actor,
        keyId,
        data: { team: request.team, role: request.role, scopes: [...request.scopes], expires_at: issued.expiresAt },
      });
      return {
        keyId,
        token: stored.value,
        expiresAt: issued.expiresAt,
        team: request.team,
        role: request.role,
        scopes: [...request.scopes],
        issued,
      };
    } catch (error) {
      // Nothing half-made: a token without a grant would be a live key nobody can use or see as a token.
      await this.#app.operational.db
        .deleteFrom('api_tokens')
        .where('key_id', '=', keyId)
        .execute()
        .catch(() => {});
      await this.#app
        .revoker()
        .revoke({ keyId, actor: request.actor, reason: 'API token creation failed before its grant was recorded' })
        .catch(() => {});
      throw error;
    }
  }

  /** The principal a presented token proves, or why it proves none. */
  async authenticate(
    token: SecretValue,
  ): Promise<{ principal: Principal } | { refused: TokenRefusal; keyId?: string }> {
    const result = await this.#app.provider(API_TOKEN_PROVIDER).verify(token);
    if (!result.providerKeyId) return { refused: result.reason === 'unknown key' ? 'unknown' : 'malformed' };
    const db = this.#app.operational.db;
    const key = await db
      .selectFrom('internal_keys')
      .select('account')
      .where('id', '=', result.providerKeyId)
      .executeTakeFirst();
    const keyId = key?.account?.startsWith(ACCOUNT_PREFIX) ? key.account.slice(ACCOUNT_PREFIX.length) : undefined;
    const row = keyId
      ? await db.selectFrom('api_tokens').selectAll().where('key_id', '=', keyId).executeTakeFirst()
      : undefined;
    if (!result.valid) {
      const refused: TokenRefusal = result.reason === 'expired' ? 'expired' : 'revoked';
      return { refused, ...(row ? { keyId: row.key_id } : {}) };
    }
    if (!row) return { refused: 'no-grant' };
    return {
      principal: {
        kind: 'api-token',
        subject: row.key_id,
        roles: [row.role as Role],
        teams: [row.team],
        scopes: JSON.parse(row.scopes) as string[],
      },
    };
  }

  async list(): Promise<ApiTokenGrant[]> {
    const rows = await this.#app.operational.db.selectFrom('api_tokens').selectAll().orderBy('key_id').execute();
    return rows.map((row) => ({
      keyId: row.key_id,
      team: row.team,
      role: row.role as Role,
      scopes: JSON.parse(row.scopes) as string[],
      createdAt: row.created_at,
      createdBy: row.created_by,
    }));
  }
}
