// Google's OAuth 2.0 token endpoint as a service account with domain-wide delegation meets it (RFC 7523 JWT bearer
// grant; developers.google.com/identity/protocols/oauth2/service-account): `POST /token` with
// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`. The assertion's RS256 signature is
// checked with the service account's public key, then its claims: `iss` the account, `aud` this endpoint's URL,
// `iat`/`exp` at most an hour apart and around now, `scope` present and every scope among those the Workspace
// admin delegated to the account, `sub` a user of the domain. Refusals are Google's OAuth error bodies
// (`{error, error_description}`, the descriptions Google's client libraries report; sources in
// src/sandbox/idp/google/SOURCE.md). The access tokens it issues carry their subject, scopes and expiry, read by
// the Directory API routes of google-sandbox.ts.
import { createVerify, type KeyObject, randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '../../../runtime/clock.js';
import {
  type GcpServiceAccountKeyFile,
  gcpKeyFile,
  generateGcpKeyId,
  generateGcpKeyPairSync,
} from '../../providers/gcp/gcp-key-format.js';
import type { SandboxAnswer, SandboxRequest } from '../../sandbox-server.js';

export const GOOGLE_JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const GOOGLE_TOKEN_LIFETIME_SECONDS = 3600;
/** The scopes keyledger's Google source asks for (src/idp/google/google-identity-source.ts). */
export const GOOGLE_DIRECTORY_READONLY_SCOPE = 'https://www.googleapis.com/auth/admin.directory.user.readonly';
export const GOOGLE_DIRECTORY_SECURITY_SCOPE = 'https://www.googleapis.com/auth/admin.directory.user.security';
/** The full user scope, which also allows reading users. */
export const GOOGLE_DIRECTORY_USER_SCOPE = 'https://www.googleapis.com/auth/admin.directory.user';

/** How far in the future an assertion's `iat` may be (clock skew). */
const SKEW_SECONDS = 300;

export interface GoogleIssuedToken {
  /** The service account the token was issued to. */
  account: string;
  /** The user the account acts as (domain-wide delegation); absent when the assertion named none. */
  subject?: string;
  scopes: ReadonlySet<string>;
  /** Seconds since the epoch. */
  expiresAt: number;
}

interface ServiceAccount {
  email: string;
  clientId: string;
  keys: Map<string, KeyObject>;
  /** The scopes a Workspace admin granted the client id in Security > API controls > Domain-wide delegation. */
  delegatedScopes: Set<string>;
}

export class GoogleTokenEndpoint {
  readonly #clock: Clock;
  readonly #accounts = new Map<string, ServiceAccount>();
  readonly #tokens = new Map<string, GoogleIssuedToken>();
  readonly #isUser: (email: string) => boolean;
  #url = 'https://oauth2.googleapis.com/token';
  #nextClientId = 104_000_000_000_000_000_001n;
  /** Every exchange answered, in order: who asked and what came back (tests count refreshes). */
  readonly exchanges: Array<{ account?: string; subject?: string; status: number; error?: string }> = [];

  constructor(options: { clock?: Clock; isUser: (email: string) => boolean }) {
    this.#clock = options.clock ?? systemClock;
    this.#isUser = options.isUser;
  }

  /** The endpoint's own URL: the `aud` every assertion must name and the key files' `token_uri`. */
  get url(): string {
    return this.#url;
  }

  setUrl(url: string): void {
    this.#url = url;
  }

  /**
   * A service account with one new RSA 2048 key, its domain-wide delegation granted for `delegatedScopes`: the key
   * file Google's console downloads, `token_uri` pointing here.
   */
  createServiceAccount(name: string, delegatedScopes: readonly string[]): GcpServiceAccountKeyFile {
    const projectId = 'keyledger-workspace';
    const email = `${name}@${projectId}.iam.gserviceaccount.com`;
    const account: ServiceAccount = this.#accounts.get(email) ?? {
      email,
      clientId: String(this.#nextClientId++),
      keys: new Map(),
      delegatedScopes: new Set(),
    };
    for (const scope of delegatedScopes) account.delegatedScopes.add(scope);
    const pair = generateGcpKeyPairSync();
    const keyId = generateGcpKeyId(() => randomBytes(4).readUInt32LE() / 2 ** 32);
    account.keys.set(keyId, pair.publicKey);
    this.#accounts.set(email, account);
    return gcpKeyFile({
      projectId,
      keyId,
      privateKeyPem: pair.privateKeyPem,
      email,
      uniqueId: account.clientId,
      tokenUri: this.#url,
    });
  }

  /** Changes what the admin delegated to an account (the Admin console's domain-wide delegation entry). */
  setDelegatedScopes(email: string, scopes: readonly string[]): void {
    const account = this.#accounts.get(email);
    if (account) account.delegatedScopes = new Set(scopes);
  }

  /** Deletes a key (the console's "Delete key"): assertions it signs no longer verify. */
  deleteKey(email: string, keyId: string): void {
    this.#accounts.get(email)?.keys.delete(keyId);
  }

  /** Ends every issued token before its time, as a revocation or a password reset of the subject would. */
  revokeIssuedTokens(): void {
    this.#tokens.clear();
  }

  /** The live token a bearer value names; undefined when unknown or expired. */
  token(value: string | undefined): GoogleIssuedToken | undefined {
    if (!value) return undefined;
    const token = this.#tokens.get(value);
    if (!token) return undefined;
    if (token.expiresAt <= Math.floor(this.#clock().getTime() / 1000)) {
      this.#tokens.delete(value);
      return undefined;
    }
    return token;
  }

  exchange(request: SandboxRequest): SandboxAnswer {
    const answer = this.#exchange(request);
    const body = answer.body as { error?: string };
    this.exchanges.push({
      ...(answer.account ? { account: answer.account } : {}),
      ...(answer.subject ? { subject: answer.subject } : {}),
      status: answer.status,
      ...(body?.error ? { error: body.error } : {}),
    });
    return { status: answer.status, headers: answer.headers ?? {}, body: answer.body };
  }

  #exchange(request: SandboxRequest): SandboxAnswer & { account?: string; subject?: string } {
    const form = new URLSearchParams(request.text);
    const grantType = form.get('grant_type');
    if (grantType !== GOOGLE_JWT_BEARER)
      return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType ?? ''}`);
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return oauthError(400, 'invalid_request', 'Invalid JWT: malformed assertion.');
    let header: { alg?: unknown; kid?: unknown };
    let claims: { iss?: unknown; sub?: unknown; aud?: unknown; iat?: unknown; exp?: unknown; scope?: unknown };
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return oauthError(400, 'invalid_request', 'Invalid JWT: malformed assertion.');
    }
    const account = typeof claims.iss === 'string' ? this.#accounts.get(claims.iss) : undefined;
    if (!account) return oauthError(400, 'invalid_grant', 'Invalid grant: account not found');
    // Google tries the account's keys (the `kid`, when there is one, names which).
    const keys =
      typeof header.kid === 'string' && account.keys.has(header.kid)
        ? [account.keys.get(header.kid)!]
        : [...account.keys.values()];
    const signed = `${parts[0]}.${parts[1]}`;
    const signature = Buffer.from(parts[2]!, 'base64url');
    const verified =
      header.alg === 'RS256' && keys.some((key) => createVerify('RSA-SHA256').update(signed).verify(key, signature));
    if (!verified) return oauthError(400, 'invalid_grant', 'Invalid JWT Signature.');
    if (claims.aud !== this.#url)
      return oauthError(400, 'invalid_grant', `Invalid JWT: Failed audience check. The right audience is ${this.#url}`);
    const now = Math.floor(this.#clock().getTime() / 1000);
    if (
      typeof claims.iat !== 'number' ||
      typeof claims.exp !== 'number' ||
      claims.exp <= now ||
      claims.iat > now + SKEW_SECONDS ||
      claims.exp - claims.iat > GOOGLE_TOKEN_LIFETIME_SECONDS
    )
      return oauthError(
        400,
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
      );
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(/\s+/).filter(Boolean) : [];
    if (scopes.length === 0) return oauthError(400, 'invalid_scope', 'Empty or missing scope not allowed.');
    const subject = typeof claims.sub === 'string' ? claims.sub.toLowerCase() : undefined;
    if (subject !== undefined) {
      if (!this.#isUser(subject)) return oauthError(400, 'invalid_grant', 'Invalid email or User ID');
      // Acting as a user needs every scope asked for delegated to the account's client id.
      if (!scopes.every((scope) => account.delegatedScopes.has(scope)))
        return oauthError(
          401,
          'unauthorized_client',
          'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
        );
    }
    const accessToken = `ya29.c.${randomBytes(48).toString('base64url')}`;
    this.#tokens.set(accessToken, {
      account: account.email,
      ...(subject ? { subject } : {}),
      scopes: new Set(scopes),
      expiresAt: now + GOOGLE_TOKEN_LIFETIME_SECONDS,
    });
    return {
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache, no-store' },
      body: { access_token: accessToken, expires_in: GOOGLE_TOKEN_LIFETIME_SECONDS - 1, token_type: 'Bearer' },
      account: account.email,
      ...(subject ? { subject } : {}),
    };
  }
}

function oauthError(status: number, error: string, description: string): SandboxAnswer {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: { error, error_description: description },
  };
}
