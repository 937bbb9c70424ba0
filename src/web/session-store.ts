// Dashboard sessions in the operational store: the cookie carries a random token, the table its SHA-256, so a
// copy of the store cannot be turned back into a cookie. Each session carries its CSRF token (every form POST
// sends it back, src/web/csrf.ts). Also the OIDC logins under way, taken (read and deleted) once at the callback.
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../runtime/clock.js';
import type { Principal } from '../server/access.js';
import type { WebDb } from './web-schema.js';

export interface Session {
  principal: Principal;
  csrfToken: string;
  expiresAt: string;
}

export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
}

export const DEFAULT_SESSION_TTL_MS = 8 * 60 * 60_000;
const LOGIN_STATE_TTL_MS = 10 * 60_000;

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class SessionStore {
  readonly #db: WebDb;
  readonly #clock: Clock;
  readonly #ttlMs: number;

  constructor(db: WebDb, clock: Clock, ttlMs = DEFAULT_SESSION_TTL_MS) {
    this.#db = db;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  /** Starts a session; returns the token for the cookie (shown nowhere else). */
  async create(principal: Principal): Promise<{ token: string; session: Session }> {
    const token = randomToken();
    const now = this.#clock();
    const session: Session = {
      principal,
      csrfToken: randomToken(),
      expiresAt: new Date(now.getTime() + this.#ttlMs).toISOString(),
    };
    await this.#db
      .insertInto('web_sessions')
      .values({
        token_hash: hashToken(token),
        principal: JSON.stringify(principal),
        csrf_token: session.csrfToken,
        created_at: now.toISOString(),
        expires_at: session.expiresAt,
      })
      .execute();
    return { token, session };
  }

  /** The live session of a cookie's token; an expired one is removed and not returned. */
  async find(token: string): Promise<Session | undefined> {
    const row = await this.#db
      .selectFrom('web_sessions')
      .selectAll()
      .where('token_hash', '=', hashToken(token))
      .executeTakeFirst();
    if (!row) return undefined;
    if (row.expires_at <= this.#clock().toISOString()) {
      await this.destroy(token);
      return undefined;
    }
    return { principal: JSON.parse(row.principal) as Principal, csrfToken: row.csrf_token, expiresAt: row.expires_at };
  }

  async destroy(token: string): Promise<void> {
    await this.#db.deleteFrom('web_sessions').where('token_hash', '=', hashToken(token)).execute();
  }

  /** Removes expired sessions and abandoned logins; returns how many sessions went. */
  async sweep(): Promise<number> {
    const now = this.#clock().toISOString();
    await this.#db.deleteFrom('web_login_states').where('expires_at', '<=', now).execute();
    const result = await this.#db.deleteFrom('web_sessions').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async putLogin(login: PendingLogin): Promise<void> {
    await this.#db
      .insertInto('web_login_states')
      .values({
        state: login.state,
        nonce: login.nonce,
        code_verifier: login.codeVerifier,
        return_to: login.returnTo,
        expires_at: new Date(this.#clock().getTime() + LOGIN_STATE_TTL_MS).toISOString(),
      })
      .execute();
  }

  /** The login started with `state`, once: it is deleted as it is read, so a replayed callback finds nothing. */
  async takeLogin(state: string): Promise<PendingLogin | undefined> {
    const row = await this.#db.selectFrom('web_login_states').selectAll().where('state', '=', state).executeTakeFirst();
    if (!row) return undefined;
    const deleted = await this.#db.deleteFrom('web_login_states').where('state', '=', state).executeTakeFirst();
    if (Number(deleted.numDeletedRows) !== 1) return undefined;
    if (row.expires_at <= this.#clock().toISOString()) return undefined;
    return { state: row.state, nonce: row.nonce, codeVerifier: row.code_verifier, returnTo: row.return_to };
  }
}
