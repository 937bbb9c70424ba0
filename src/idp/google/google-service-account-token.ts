// The Google source's access token, minted by keyledger itself: a service account's key file (client_email,
// private_key, token_uri) signs an RS256 JWT assertion naming the Workspace admin it acts as (`sub`, domain-wide
// delegation) and the Directory scopes, and exchanges it at `token_uri` (RFC 7523, the JWT bearer grant;
// developers.google.com/identity/protocols/oauth2/service-account). The token is kept until five minutes before it
// expires (google-auth-library's eager refresh margin) and dropped when the API answers 401, so the next call
// exchanges again. Concurrent callers share one exchange.
//
// Not google-auth-library's JWT client: its token request (gtoken 8) is sent to, and its assertion's `aud` is, the
// hard-coded https://oauth2.googleapis.com/token whatever the key file's `token_uri` says (as the GCP provider found,
// src/providers/gcp/gcp-provider.ts), so a sandbox or a private endpoint could never be reached, and its clock is
// the process's. The exchange here is the GCP provider's, with `sub` added: an adapter cannot import another's folder.
import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { KeyledgerError } from '../../errors/keyledger-error.js';
import type { Clock } from '../../runtime/clock.js';

export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
export const GOOGLE_JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Google refuses an assertion valid for longer than an hour. */
const ASSERTION_LIFETIME_SECONDS = 3600;
/** A token is renewed this long before it expires (google-auth-library's DEFAULT_EAGER_REFRESH_THRESHOLD_MILLIS). */
export const GOOGLE_TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

/** The JSON key file Google's console downloads for a service account (other fields are kept but unused). */
export const googleServiceAccountKeySchema = z.looseObject({
  type: z.literal('service_account').optional(),
  client_email: z.email(),
  private_key: z.string().min(1),
  private_key_id: z.string().min(1).optional(),
  token_uri: z.url().default(GOOGLE_TOKEN_URI),
});
export type GoogleServiceAccountKey = z.output<typeof googleServiceAccountKeySchema>;

/** The token endpoint refused the assertion: Google's OAuth error code and description, never the assertion. */
export class GoogleTokenError extends KeyledgerError {
  /** Google's `error`: `invalid_grant`, `unauthorized_client`, `invalid_scope`... */
  readonly oauthError: string;

  constructor(message: string, oauthError: string, status: number) {
    super('E_IDP_AUTH', message, { category: 'external', details: { oauthError, status } });
    this.oauthError = oauthError;
  }
}

export interface GoogleServiceAccountTokenOptions {
  key: GoogleServiceAccountKey;
  /** The Workspace user the account acts as (an admin for the Directory API). */
  subject: string;
  scopes: readonly string[];
  clock: Clock;
  timeoutMs?: number;
}

export class GoogleServiceAccountToken {
  readonly #options: GoogleServiceAccountTokenOptions;
  readonly #privateKey: KeyObject;
  #token: { value: string; expiresAt: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(options: GoogleServiceAccountTokenOptions) {
    this.#options = options;
    // Parsed once, here: a key that is not a PEM private key is a configuration error before any call.
    this.#privateKey = createPrivateKey(options.key.private_key);
  }

  /** The service account's email (for messages: never the key). */
  get account(): string {
    return this.#options.key.client_email;
  }

  /** A live access token: the cached one, or a new exchange. */
  async accessToken(): Promise<string> {
    const now = this.#options.clock().getTime();
    if (this.#token && this.#token.expiresAt - GOOGLE_TOKEN_REFRESH_MARGIN_MS > now) return this.#token.value;
    this.#pending ??= this.#exchange().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Forgets `value` (the API answered 401 with it): the next call exchanges again. */
  invalidate(value: string): void {
    if (this.#token?.value === value) this.#token = undefined;
  }

  async #exchange(): Promise<string> {
    const { key, clock } = this.#options;
    const issuedAt = clock();
    const assertion = this.#assertion(issuedAt);
    let response: Response;
    try {
      response = await fetch(key.token_uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: GOOGLE_JWT_BEARER_GRANT, assertion }),
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      // fetch's message names the failure (ECONNREFUSED, timeout), never the body it sent.
      throw new KeyledgerError(
        'E_IDP_CALL',
        `google: the token endpoint ${key.token_uri} did not answer: ${(error as Error).message}`,
        { category: 'external' },
      );
    }
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: unknown;
      expires_in?: unknown;
      error?: unknown;
      error_description?: unknown;
    };
    if (!response.ok || typeof body.access_token !== 'string') {
      const error = typeof body.error === 'string' ? body.error : 'no_token';
      const description = typeof body.error_description === 'string' ? body.error_description : '';
      throw new GoogleTokenError(
        `google: ${key.token_uri} refused the token for ${key.client_email} acting as ${this.#options.subject} (HTTP ${response.status} ${error})${description ? `: ${withoutSecrets(description, assertion, key.private_key)}` : ''}`,
        error,
        response.status,
      );
    }
    const lifetimeSeconds = typeof body.expires_in === 'number' ? body.expires_in : ASSERTION_LIFETIME_SECONDS - 1;
    // Timed from before the request: a slow answer shortens the cache, never lengthens it.
    this.#token = { value: body.access_token, expiresAt: issuedAt.getTime() + lifetimeSeconds * 1000 };
    return body.access_token;
  }

  /** `header.claims.signature`, RS256 with the key file's private key; `kid` names the key as Google's libraries do. */
  #assertion(now: Date): string {
    const { key, subject, scopes } = this.#options;
    const iat = Math.floor(now.getTime() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', ...(key.private_key_id ? { kid: key.private_key_id } : {}) };
    const claims = {
      iss: key.client_email,
      sub: subject,
      scope: scopes.join(' '),
      aud: key.token_uri,
      iat,
      exp: iat + ASSERTION_LIFETIME_SECONDS,
    };
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode(header)}.${encode(claims)}`;
    return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(this.#privateKey).toString('base64url')}`;
  }
}

/** Google's descriptions echo neither, but a proxy or a stand-in endpoint might: cut them out all the same. */
function withoutSecrets(text: string, ...secrets: string[]): string {
  let cleaned = text;
  for (const secret of secrets) if (secret) cleaned = cleaned.split(secret).join('[redacted]');
  return cleaned.slice(0, 500);
}
