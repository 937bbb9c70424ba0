// A local Microsoft Entra ID for users and their sign-in sessions, as Microsoft Graph v1.0 and the identity
// platform speak them: the client-credentials token request (`POST /{tenant}/oauth2/v2.0/token`, AADSTS errors),
// `GET /v1.0/users/delta` (pages linked by `@odata.nextLink`, the last page carrying `@odata.deltaLink`),
// `GET /v1.0/users/{id or userPrincipalName}`, `POST /v1.0/users/{id}/revokeSignInSessions` (200, `{"value": true}`),
// Graph's error body (`{error: {code, message, innerError}}`) and its throttling answer (429 `TooManyRequests` with
// `Retry-After`). learn.microsoft.com's Graph reference for user: delta and user: revokeSignInSessions gives these.
import { randomBytes, randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '../../../runtime/clock.js';
import { bearerToken } from '../../sandbox-credentials.js';
import { SandboxPathRouter } from '../../sandbox-path-router.js';
import type { SandboxSeed } from '../../sandbox-seed.js';
import type { SandboxAnswer, SandboxProvider, SandboxRequest, SandboxRouteMatch } from '../../sandbox-server.js';
import { IdpSandboxPeople, type IdpSandboxUser } from '../idp-sandbox-people.js';

const PAGE_SIZE = 100;

export class EntraSandbox implements SandboxProvider {
  readonly name = 'entra';
  readonly tenantId = randomUUID();
  readonly clientId = randomUUID();
  readonly clientSecret = `${randomBytes(3).toString('hex')}8Q~${randomBytes(27).toString('base64url')}`;
  readonly people = new IdpSandboxPeople(() => randomUUID());
  readonly #tokens = new Set<string>();
  readonly #router = new SandboxPathRouter();
  readonly #clock: Clock;
  #url = '';

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
    const r = this.#router;
    r.add('POST', '/:tenant/oauth2/v2.0/token', 'entra:POST /{tenant}/oauth2/v2.0/token', (req, p) =>
      this.#token(req, p.tenant!),
    );
    r.add('GET', '/v1.0/users/delta', 'entra:GET /users/delta', (req) => this.#authed(req, () => this.#delta(req)));
    r.add('GET', '/v1.0/users/:id', 'entra:GET /users/{id}', (req, p) => this.#authed(req, () => this.#get(p.id!)));
    r.add('POST', '/v1.0/users/:id/revokeSignInSessions', 'entra:POST /users/{id}/revokeSignInSessions', (req, p) =>
      this.#authed(req, () => this.#revoke(p.id!)),
    );
  }

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
    return graphError(400, 'BadRequest', `Resource not found for the segment '${request.path.split('/').pop()}'.`);
  }

  rateLimited(retryAfter: string, status?: number): SandboxAnswer {
    const answer = graphError(status ?? 429, 'TooManyRequests', 'Too many requests. Please try again later.');
    return { ...answer, headers: { ...answer.headers, 'retry-after': retryAfter } };
  }

  failure(status: number, echo?: string): SandboxAnswer {
    return graphError(status, 'generalException', `General exception while processing${echo ? ` (${echo})` : ''}`);
  }

  callerSecret(request: SandboxRequest): string | undefined {
    return bearerToken(request) ?? new URLSearchParams(request.text).get('client_secret') ?? undefined;
  }

  auditLog(): unknown {
    return this.people.revocations;
  }

  groundTruth(): unknown {
    return this.people.groundTruth();
  }

  #token(request: SandboxRequest, tenant: string): SandboxAnswer {
    const form = new URLSearchParams(request.text);
    if (tenant !== this.tenantId) return aadError(400, 'invalid_request', `AADSTS90002: Tenant '${tenant}' not found.`);
    if (form.get('grant_type') !== 'client_credentials')
      return aadError(400, 'unsupported_grant_type', 'AADSTS70003: The app requested an unsupported grant type.');
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret)
      return aadError(401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.');
    const token = `eyJ0eXAiOiJKV1QifQ.${randomBytes(24).toString('base64url')}.sig`;
    this.#tokens.add(token);
    return { status: 200, body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token } };
  }

  #authed(request: SandboxRequest, handle: () => SandboxAnswer): SandboxAnswer {
    const token = bearerToken(request);
    if (!token) return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    if (!this.#tokens.has(token))
      return graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
    return handle();
  }

  #delta(request: SandboxRequest): SandboxAnswer {
    const users = this.people.all().sort((a, b) => a.id.localeCompare(b.id));
    const skip = Number(request.query.get('$skiptoken') ?? 0) || 0;
    const page = users.slice(skip, skip + PAGE_SIZE);
    const more = skip + PAGE_SIZE < users.length;
    return {
      status: 200,
      body: {
        '@odata.context': `${this.#url}/v1.0/$metadata#users(id,displayName,userPrincipalName,mail,accountEnabled)`,
        value: page.map((user) => this.#render(user)),
        ...(more
          ? { '@odata.nextLink': `${this.#url}/v1.0/users/delta?$skiptoken=${skip + PAGE_SIZE}` }
          : { '@odata.deltaLink': `${this.#url}/v1.0/users/delta?$deltatoken=${randomBytes(12).toString('hex')}` }),
      },
    };
  }

  #get(id: string): SandboxAnswer {
    const user = this.people.find(id);
    return user ? { status: 200, body: this.#render(user) } : resourceNotFound(id);
  }

  #revoke(id: string): SandboxAnswer {
    const user = this.people.find(id);
    if (!user) return resourceNotFound(id);
    this.people.revoke(user, this.#clock().toISOString());
    return { status: 200, body: { '@odata.context': `${this.#url}/v1.0/$metadata#Edm.Boolean`, value: true } };
  }

  #render(user: IdpSandboxUser): unknown {
    return {
      id: user.id,
      displayName: user.name,
      userPrincipalName: user.email,
      mail: user.email,
      accountEnabled: !user.left,
    };
  }
}

function resourceNotFound(id: string): SandboxAnswer {
  return graphError(
    404,
    'Request_ResourceNotFound',
    `Resource '${decodeURIComponent(id)}' does not exist or one of its queried reference-property objects are not present.`,
  );
}

function graphError(status: number, code: string, message: string): SandboxAnswer {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: {
      error: {
        code,
        message,
        innerError: {
          date: new Date().toISOString().slice(0, 19),
          'request-id': randomUUID(),
          'client-request-id': randomUUID(),
        },
      },
    },
  };
}

function aadError(status: number, error: string, description: string): SandboxAnswer {
  return {
    status,
    body: { error, error_description: description, error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)] },
  };
}
