// A local Google Workspace Admin SDK Directory API for users: `GET /admin/directory/v1/users` (`customer` or
// `domain` required, `maxResults` up to 500, `pageToken`/`nextPageToken`), `GET /admin/directory/v1/users/{userKey}`
// (id or primary email), `POST /admin/directory/v1/users/{userKey}/signOut` (204: "signs a user out of all web and
// device sessions and reset their sign-in cookies"), Google's error body
// (`{error: {code, message, errors: [{message, domain, reason}], status}}`) and its quota answer (429
// `rateLimitExceeded`, RESOURCE_EXHAUSTED). developers.google.com/admin-sdk/directory/reference/rest/v1/users.
// Authentication as Google does it for a service account with domain-wide delegation: the token endpoint
// (`POST /token`, google-token-endpoint.ts) issues access tokens for a subject and scopes; each route checks the
// token is live (401 otherwise), acts as an admin (403 "Not Authorized to access this resource/api") and holds the
// method's scope (403 ACCESS_TOKEN_SCOPE_INSUFFICIENT: users.list/get take `admin.directory.user.readonly` or
// `admin.directory.user`, users.signOut `admin.directory.user.security`). `accessToken` is a token minted outside
// (an admin's, every scope, never expiring), for the adapter's `accessToken` option.
import { randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '../../../runtime/clock.js';
import { bearerToken } from '../../sandbox-credentials.js';
import { SandboxPathRouter } from '../../sandbox-path-router.js';
import type { SandboxSeed } from '../../sandbox-seed.js';
import type { SandboxAnswer, SandboxProvider, SandboxRequest, SandboxRouteMatch } from '../../sandbox-server.js';
import { IdpSandboxPeople, type IdpSandboxUser } from '../idp-sandbox-people.js';
import {
  GOOGLE_DIRECTORY_READONLY_SCOPE,
  GOOGLE_DIRECTORY_SECURITY_SCOPE,
  GOOGLE_DIRECTORY_USER_SCOPE,
  GoogleTokenEndpoint,
} from './google-token-endpoint.js';

/** The Workspace super admin keyledger's service account acts as (`subject`). */
export const GOOGLE_SANDBOX_ADMIN = 'workspace-admin@example.com';
const READ_SCOPES = [GOOGLE_DIRECTORY_READONLY_SCOPE, GOOGLE_DIRECTORY_USER_SCOPE];
const SIGN_OUT_SCOPES = [GOOGLE_DIRECTORY_SECURITY_SCOPE];

export class GoogleSandbox implements SandboxProvider {
  readonly name = 'google';
  readonly accessToken = `ya29.${randomBytes(40).toString('base64url')}`;
  readonly people = new IdpSandboxPeople((index) => String(100_000_000_000_000_000_000n + BigInt(index + 1)));
  /** Workspace admins (emails): the users a delegated token may act as to call the Directory API. */
  readonly admins = new Set<string>([GOOGLE_SANDBOX_ADMIN]);
  readonly tokens: GoogleTokenEndpoint;
  readonly #router = new SandboxPathRouter();
  readonly #clock: Clock;

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
    this.tokens = new GoogleTokenEndpoint({
      clock: this.#clock,
      isUser: (email) => this.admins.has(email) || this.people.find(email) !== undefined,
    });
    const r = this.#router;
    const base = '/admin/directory/v1/users';
    r.add('POST', '/token', 'google:POST /token', (req) => this.tokens.exchange(req));
    r.add('GET', base, 'google:GET users', (req) => this.#authed(req, READ_SCOPES, () => this.#list(req)));
    r.add('GET', `${base}/:key`, 'google:GET users/{userKey}', (req, p) =>
      this.#authed(req, READ_SCOPES, () => this.#get(p.key!)),
    );
    r.add('POST', `${base}/:key/signOut`, 'google:POST users/{userKey}/signOut', (req, p) =>
      this.#authed(req, SIGN_OUT_SCOPES, () => this.#signOut(p.key!)),
    );
  }

  /** Where the sandbox is served: the token endpoint is `<url>/token`, the `aud` assertions must name. */
  setUrl(url: string): void {
    this.tokens.setUrl(`${url.replace(/\/+$/, '')}/token`);
  }

  /**
   * keyledger's service account: a key file (token_uri here) whose client id the admin granted the Directory scopes
   * the source asks for (`delegatedScopes`, both by default) in the Admin console's domain-wide delegation.
   */
  serviceAccountKeyFile(
    delegatedScopes: readonly string[] = [GOOGLE_DIRECTORY_READONLY_SCOPE, GOOGLE_DIRECTORY_SECURITY_SCOPE],
  ) {
    return this.tokens.createServiceAccount('keyledger-directory', delegatedScopes);
  }

  load(seed: SandboxSeed, options: { leaversAsActive?: boolean } = {}): void {
    this.people.load(seed, options);
  }

  match(request: SandboxRequest): SandboxRouteMatch | undefined {
    return this.#router.match(request);
  }

  notFound(): SandboxAnswer {
    return googleError(404, 'notFound', 'Not Found', 'NOT_FOUND');
  }

  rateLimited(retryAfter: string, status?: number): SandboxAnswer {
    const answer = googleError(
      status ?? 429,
      'rateLimitExceeded',
      "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service 'admin.googleapis.com'.",
      'RESOURCE_EXHAUSTED',
      'usageLimits',
    );
    return { ...answer, headers: { ...answer.headers, 'retry-after': retryAfter } };
  }

  failure(status: number, echo?: string): SandboxAnswer {
    return googleError(status, 'backendError', `Backend Error${echo ? ` (${echo})` : ''}`, 'INTERNAL');
  }

  callerSecret(request: SandboxRequest): string | undefined {
    if (request.path === '/token') return new URLSearchParams(request.text).get('assertion') ?? undefined;
    return bearerToken(request);
  }

  auditLog(): unknown {
    return this.people.revocations;
  }

  groundTruth(): unknown {
    return this.people.groundTruth();
  }

  #authed(request: SandboxRequest, anyOf: readonly string[], handle: () => SandboxAnswer): SandboxAnswer {
    const presented = bearerToken(request);
    if (presented === this.accessToken) return handle();
    const token = this.tokens.token(presented);
    if (!token)
      return googleError(
        401,
        'authError',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        'UNAUTHENTICATED',
      );
    if (!anyOf.some((scope) => token.scopes.has(scope))) {
      const answer = googleError(
        403,
        'insufficientPermissions',
        'Request had insufficient authentication scopes.',
        'PERMISSION_DENIED',
      );
      const body = answer.body as { error: { errors: Array<{ message: string }>; details?: unknown[] } };
      body.error.errors[0]!.message = 'Insufficient Permission';
      body.error.details = [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
          domain: 'googleapis.com',
          metadata: { service: 'admin.googleapis.com', method: 'ccc.hosted.frontend.directory.v1.DirectoryUsers' },
        },
      ];
      return answer;
    }
    // The Directory API acts as the delegated user: only an admin may read the customer's users or sign them out.
    if (!token.subject || !this.admins.has(token.subject))
      return googleError(403, 'forbidden', 'Not Authorized to access this resource/api', 'PERMISSION_DENIED');
    return handle();
  }

  #list(request: SandboxRequest): SandboxAnswer {
    if (!request.query.get('customer') && !request.query.get('domain'))
      return googleError(400, 'badRequest', 'Bad Request', 'INVALID_ARGUMENT');
    const max = Math.min(500, Math.max(1, Number(request.query.get('maxResults') ?? 100) || 100));
    const users = this.people.all().sort((a, b) => a.email.localeCompare(b.email));
    const start = Number(Buffer.from(request.query.get('pageToken') ?? '', 'base64url').toString() || 0) || 0;
    const page = users.slice(start, start + max);
    const next = start + max < users.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
    return {
      status: 200,
      body: {
        kind: 'admin#directory#users',
        etag: `"${randomBytes(8).toString('hex')}"`,
        users: page.map((user) => render(user)),
        ...(next ? { nextPageToken: next } : {}),
      },
    };
  }

  #get(key: string): SandboxAnswer {
    const user = this.people.find(key);
    return user
      ? { status: 200, body: render(user) }
      : googleError(404, 'notFound', 'Resource Not Found: userKey', 'NOT_FOUND');
  }

  #signOut(key: string): SandboxAnswer {
    const user = this.people.find(key);
    if (!user) return googleError(404, 'notFound', 'Resource Not Found: userKey', 'NOT_FOUND');
    this.people.revoke(user, this.#clock().toISOString());
    return { status: 204 };
  }
}

function render(user: IdpSandboxUser): unknown {
  const [givenName, ...rest] = user.name.split(' ');
  return {
    kind: 'admin#directory#user',
    id: user.id,
    primaryEmail: user.email,
    name: { givenName, familyName: rest.join(' '), fullName: user.name },
    isAdmin: false,
    suspended: user.left,
    ...(user.left ? { suspensionReason: 'ADMIN' } : {}),
    archived: false,
    orgUnitPath: '/',
    creationTime: user.created,
  };
}

function googleError(
  status: number,
  reason: string,
  message: string,
  statusText: string,
  domain = 'global',
): SandboxAnswer {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=UTF-8' },
    body: { error: { code: status, message, errors: [{ message, domain, reason }], status: statusText } },
  };
}
