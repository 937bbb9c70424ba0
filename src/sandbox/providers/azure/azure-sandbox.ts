// A local Entra ID for application passwords: the Microsoft identity platform's token endpoint
// (`POST /{tenant}/oauth2/v2.0/token`, client-credentials grant, AADSTS errors) and Microsoft Graph v1.0's
// `GET /applications/{id}` (passwordCredentials with `hint`, `endDateTime`), `POST .../addPassword` (the secret
// text returned once), `POST .../removePassword`, applications addressed by object id or `(appId='...')`, and
// `GET /auditLogs/signIns` — service-principal sign-ins naming `servicePrincipalCredentialKeyId`, one per token
// request. Graph errors are `{error: {code, message, innerError}}`; throttling is 429 with Retry-After.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../../runtime/clock.js';
import { systemClock } from '../../../runtime/clock.js';
import { bearerToken } from '../../sandbox-credentials.js';
import type { SandboxSeed } from '../../sandbox-seed.js';
import type { SandboxAnswer, SandboxProvider, SandboxRequest, SandboxRouteMatch } from '../../sandbox-server.js';
import { generateAzureClientSecret, generateAzureGuid } from './azure-key-format.js';

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const TOKEN_LIFETIME_SECONDS = 3599;
/** Graph's default lifetime for a password added without `endDateTime`: two years. */
const DEFAULT_PASSWORD_LIFETIME_MS = 2 * 365 * 86_400_000;

export interface AzureSandboxOptions {
  clock?: Clock;
  tenantId?: string;
}

interface AzurePassword {
  keyId: string;
  displayName: string | null;
  secret: string;
  startDateTime: Date;
  endDateTime: Date;
}

interface AzureApplication {
  id: string;
  appId: string;
  displayName: string;
  servicePrincipalId: string;
  passwords: AzurePassword[];
  /** The adapter's own application may manage others (Application.ReadWrite.All, AuditLog.Read.All). */
  admin: boolean;
}

/** A sign-in as `GET /auditLogs/signIns` returns it (service-principal sign-ins only here). */
export interface AzureSignIn {
  id: string;
  createdDateTime: string;
  appId: string;
  appDisplayName: string;
  ipAddress: string;
  clientAppUsed: string;
  isInteractive: false;
  resourceDisplayName: string;
  resourceId: string;
  servicePrincipalId: string;
  servicePrincipalName: string;
  servicePrincipalCredentialKeyId: string | null;
  signInEventTypes: ['servicePrincipal'];
  status: { errorCode: number; failureReason: string | null; additionalDetails: string | null };
}

interface Route {
  operation: string;
  handle(): SandboxAnswer | Promise<SandboxAnswer>;
}

export class AzureSandbox implements SandboxProvider {
  readonly name = 'azure';
  readonly tenantId: string;
  /** The adapter's credentials: its own app registration's client id and a client secret. */
  readonly adminClientId: string;
  readonly adminClientSecret: string;
  readonly #clock: Clock;
  readonly #apps = new Map<string, AzureApplication>();
  readonly #tokens = new Map<string, { appId: string; expiresAt: number }>();
  readonly #signIns: AzureSignIn[] = [];

  constructor(options: AzureSandboxOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.tenantId = options.tenantId ?? '72f988bf-86f1-41af-91ab-2d7cd011db47';
    const admin = this.addApplication('keyledger', generateAzureGuid(), true);
    this.adminClientId = admin.appId;
    this.adminClientSecret = this.#addPassword(admin, 'keyledger', undefined).secret;
  }

  /** Registers an application (and its service principal); `appId` defaults to a new GUID. */
  addApplication(displayName: string, appId = generateAzureGuid(), admin = false): AzureApplication {
    const existing = [...this.#apps.values()].find((app) => app.appId === appId);
    if (existing) return existing;
    const app: AzureApplication = {
      id: generateAzureGuid(),
      appId,
      displayName,
      servicePrincipalId: generateAzureGuid(),
      passwords: [],
      admin,
    };
    this.#apps.set(app.id, app);
    return app;
  }

  /** Organisation keys: the account is the application's appId; each key is one of its passwords. */
  load(seed: SandboxSeed): void {
    for (const seeded of seed.keys) {
      if (seeded.provider !== this.name || seeded.status !== 'active') continue;
      const app = this.addApplication(seeded.account, seeded.account);
      const start = new Date(seeded.createdAt);
      app.passwords.push({
        keyId: seeded.providerKeyId,
        displayName: seeded.name,
        secret: seeded.secret,
        startDateTime: start,
        endDateTime: seeded.expiresAt
          ? new Date(seeded.expiresAt)
          : new Date(start.getTime() + DEFAULT_PASSWORD_LIFETIME_MS),
      });
      // From each consuming team's address for a key several teams use (src/sandbox/org/, plantSharedUses).
      if (seeded.lastUsedAt)
        for (const from of seeded.sharedUseFrom ?? ['203.0.113.30'])
          this.#recordSignIn(app, seeded.providerKeyId, new Date(seeded.lastUsedAt), from);
    }
  }

  match(request: SandboxRequest): SandboxRouteMatch | undefined {
    const route = this.#route(request);
    return route ? { operation: route.operation, handle: route.handle } : undefined;
  }

  #route(request: SandboxRequest): Route | undefined {
    const { method, path } = request;
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (method === 'POST' && token) {
      return {
        operation: 'azure:POST /oauth2/v2.0/token',
        handle: () => this.#token(request, decodeURIComponent(token[1]!)),
      };
    }
    if (method === 'GET' && path === '/v1.0/applications') {
      return { operation: 'azure:GET /applications', handle: () => this.#listApplications(request) };
    }
    // Service-principal sign-ins are served by the beta endpoint only.
    if (method === 'GET' && path === '/beta/auditLogs/signIns') {
      return { operation: 'azure:GET /auditLogs/signIns', handle: () => this.#listSignIns(request) };
    }
    const app = /^\/v1\.0\/applications(?:\/([^/()]+)|\(appId='([^']+)'\))(?:\/(addPassword|removePassword))?$/.exec(
      decodeURIComponent(path),
    );
    if (!app) return undefined;
    const select = { objectId: app[1], appId: app[2] };
    if (method === 'GET' && !app[3]) {
      return { operation: 'azure:GET /applications/{id}', handle: () => this.#getApplication(request, select) };
    }
    if (method === 'POST' && app[3] === 'addPassword') {
      return {
        operation: 'azure:POST /applications/{id}/addPassword',
        handle: () => this.#addPasswordRoute(request, select),
      };
    }
    if (method === 'POST' && app[3] === 'removePassword') {
      return {
        operation: 'azure:POST /applications/{id}/removePassword',
        handle: () => this.#removePassword(request, select),
      };
    }
    return undefined;
  }

  notFound(request: SandboxRequest): SandboxAnswer {
    return graphError(400, 'BadRequest', `Resource not found for the segment '${request.path.split('/').pop()}'.`);
  }

  rateLimited(retryAfter: string, status?: number): SandboxAnswer {
    const answer = graphError(
      status ?? 429,
      'TooManyRequests',
      'Too many requests. Please retry after the time in Retry-After.',
    );
    return { ...answer, headers: { 'retry-after': retryAfter } };
  }

  failure(status: number, echo?: string): SandboxAnswer {
    return graphError(
      status,
      status === 503 ? 'serviceNotAvailable' : 'generalException',
      `An internal server error occurred.${echo ? ` (${echo})` : ''}`,
    );
  }

  callerSecret(request: SandboxRequest): string | undefined {
    if (request.path.endsWith('/oauth2/v2.0/token'))
      return new URLSearchParams(request.text).get('client_secret') ?? undefined;
    return bearerToken(request);
  }

  /** Graph throttles per application and tenant. */
  rateLimitKey(request: SandboxRequest): string {
    const token = bearerToken(request);
    return (token && this.#tokens.get(token)?.appId) ?? request.remoteAddress;
  }

  auditLog(): AzureSignIn[] {
    return [...this.#signIns];
  }

  groundTruth(): unknown {
    return {
      tenantId: this.tenantId,
      applications: [...this.#apps.values()]
        .filter((app) => !app.admin)
        .map((app) => ({
          id: app.id,
          appId: app.appId,
          displayName: app.displayName,
          passwords: app.passwords.map((p) => ({
            keyId: p.keyId,
            displayName: p.displayName,
            endDateTime: p.endDateTime.toISOString(),
          })),
        })),
    };
  }

  #addPassword(app: AzureApplication, displayName: string | null, endDateTime: Date | undefined): AzurePassword {
    const now = this.#clock();
    const password: AzurePassword = {
      keyId: generateAzureGuid(),
      displayName,
      secret: generateAzureClientSecret(Math.random),
      startDateTime: now,
      endDateTime: endDateTime ?? new Date(now.getTime() + DEFAULT_PASSWORD_LIFETIME_MS),
    };
    app.passwords.push(password);
    return password;
  }

  #passwordJson(password: AzurePassword, withSecret: boolean) {
    return {
      customKeyIdentifier: null,
      displayName: password.displayName,
      endDateTime: password.endDateTime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      hint: password.secret.slice(0, 3),
      keyId: password.keyId,
      secretText: withSecret ? password.secret : null,
      startDateTime: password.startDateTime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
  }

  /** The client-credentials grant: client_id (appId) + client_secret (a live password of that application). */
  #token(request: SandboxRequest, tenant: string): SandboxAnswer {
    if (tenant !== this.tenantId && tenant !== 'organizations') {
      return aadError(
        400,
        'invalid_tenant',
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID.`,
      );
    }
    const form = new URLSearchParams(request.text);
    if (form.get('grant_type') !== 'client_credentials') {
      return aadError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    }
    if (form.get('scope') !== GRAPH_SCOPE) {
      return aadError(
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${form.get('scope') ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.`,
      );
    }
    const clientId = form.get('client_id') ?? '';
    const app = [...this.#apps.values()].find((candidate) => candidate.appId === clientId);
    if (!app) {
      return aadError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${this.tenantId}'.`,
      );
    }
    const secret = form.get('client_secret') ?? '';
    const password = app.passwords.find((candidate) => candidate.secret === secret);
    if (!password) {
      return aadError(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.appId}'.`,
      );
    }
    if (password.endDateTime <= this.#clock()) {
      return aadError(
        401,
        'invalid_client',
        7000222,
        `The provided client secret keys for app '${app.appId}' are expired.`,
      );
    }
    this.#recordSignIn(app, password.keyId, this.#clock(), request.remoteAddress.replace(/^::ffff:/, ''));
    const accessToken = `eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.${randomBytes(40).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
    this.#tokens.set(accessToken, {
      appId: app.appId,
      expiresAt: this.#clock().getTime() + TOKEN_LIFETIME_SECONDS * 1000,
    });
    return {
      status: 200,
      body: {
        token_type: 'Bearer',
        expires_in: TOKEN_LIFETIME_SECONDS,
        ext_expires_in: TOKEN_LIFETIME_SECONDS,
        access_token: accessToken,
      },
    };
  }

  #caller(request: SandboxRequest): AzureApplication | SandboxAnswer {
    const value = bearerToken(request);
    if (!value) return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const token = this.#tokens.get(value);
    if (!token || token.expiresAt <= this.#clock().getTime()) {
      return graphError(401, 'InvalidAuthenticationToken', 'Access token has expired or is not yet valid.');
    }
    const app = [...this.#apps.values()].find((candidate) => candidate.appId === token.appId)!;
    if (!app.admin)
      return graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    return app;
  }

  #target(select: { objectId?: string; appId?: string }): AzureApplication | SandboxAnswer {
    const app = select.objectId
      ? this.#apps.get(select.objectId)
      : [...this.#apps.values()].find((candidate) => candidate.appId === select.appId);
    if (!app) {
      const name = select.objectId ?? `appId='${select.appId}'`;
      return graphError(
        404,
        'Request_ResourceNotFound',
        `Resource '${name}' does not exist or one of its queried reference-property objects are not present.`,
      );
    }
    return app;
  }

  #getApplication(request: SandboxRequest, select: { objectId?: string; appId?: string }): SandboxAnswer {
    const caller = this.#caller(request);
    if (isAnswer(caller)) return caller;
    const app = this.#target(select);
    if (isAnswer(app)) return app;
    return {
      status: 200,
      body: {
        '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#applications/$entity',
        id: app.id,
        appId: app.appId,
        displayName: app.displayName,
        passwordCredentials: app.passwords.map((password) => this.#passwordJson(password, false)),
        keyCredentials: [],
      },
    };
  }

  #addPasswordRoute(request: SandboxRequest, select: { objectId?: string; appId?: string }): SandboxAnswer {
    const caller = this.#caller(request);
    if (isAnswer(caller)) return caller;
    const app = this.#target(select);
    if (isAnswer(app)) return app;
    let body: { passwordCredential?: { displayName?: string; endDateTime?: string } };
    try {
      body = JSON.parse(request.text || '{}') as typeof body;
    } catch {
      return graphError(400, 'BadRequest', 'Unable to read JSON request payload.');
    }
    const end = body.passwordCredential?.endDateTime ? new Date(body.passwordCredential.endDateTime) : undefined;
    if (end && (Number.isNaN(end.getTime()) || end <= this.#clock())) {
      return graphError(
        400,
        'Request_BadRequest',
        "Invalid value specified for property 'endDateTime' of resource 'PasswordCredential'.",
      );
    }
    const password = this.#addPassword(app, body.passwordCredential?.displayName ?? null, end);
    return {
      status: 200,
      body: {
        '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.passwordCredential',
        ...this.#passwordJson(password, true),
      },
    };
  }

  #removePassword(request: SandboxRequest, select: { objectId?: string; appId?: string }): SandboxAnswer {
    const caller = this.#caller(request);
    if (isAnswer(caller)) return caller;
    const app = this.#target(select);
    if (isAnswer(app)) return app;
    const { keyId } = JSON.parse(request.text || '{}') as { keyId?: string };
    const index = app.passwords.findIndex((password) => password.keyId === keyId);
    if (index < 0) {
      return graphError(400, 'Request_BadRequest', `No password credential found with keyId ${keyId ?? ''}.`);
    }
    app.passwords.splice(index, 1);
    return { status: 204 };
  }

  /** `GET /applications`: `$top` (default 100) and `@odata.nextLink` with a `$skiptoken`. */
  #listApplications(request: SandboxRequest): SandboxAnswer {
    const caller = this.#caller(request);
    if (isAnswer(caller)) return caller;
    const top = Math.min(999, Math.max(1, Number(request.query.get('$top') ?? 100) || 100));
    const skip = Number(request.query.get('$skiptoken') ?? 0) || 0;
    const apps = [...this.#apps.values()];
    const page = apps.slice(skip, skip + top);
    const host = request.headers.host ?? '127.0.0.1';
    return {
      status: 200,
      body: {
        '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#applications',
        value: page.map((app) => ({
          id: app.id,
          appId: app.appId,
          displayName: app.displayName,
          passwordCredentials: app.passwords.map((password) => this.#passwordJson(password, false)),
        })),
        ...(skip + top < apps.length
          ? { '@odata.nextLink': `http://${host}/v1.0/applications?$top=${top}&$skiptoken=${skip + top}` }
          : {}),
      },
    };
  }

  /** `$filter=servicePrincipalCredentialKeyId eq '<guid>'` or `appId eq '<guid>'`; newest first; `$top`. */
  #listSignIns(request: SandboxRequest): SandboxAnswer {
    const caller = this.#caller(request);
    if (isAnswer(caller)) return caller;
    const filter = request.query.get('$filter') ?? '';
    const clauses = [...filter.matchAll(/(servicePrincipalCredentialKeyId|appId)\s+eq\s+'([^']*)'/g)];
    const top = Math.min(1000, Math.max(1, Number(request.query.get('$top') ?? 1000) || 1000));
    const matching = this.#signIns
      .filter((signIn) => clauses.every(([, field, value]) => signIn[field as 'appId'] === value))
      .sort((a, b) => b.createdDateTime.localeCompare(a.createdDateTime))
      .slice(0, top);
    return {
      status: 200,
      body: { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns', value: matching },
    };
  }

  #recordSignIn(app: AzureApplication, keyId: string, at: Date, ip: string): void {
    this.#signIns.push({
      id: generateAzureGuid(),
      createdDateTime: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      appId: app.appId,
      appDisplayName: app.displayName,
      ipAddress: ip,
      clientAppUsed: 'Client credentials',
      isInteractive: false,
      resourceDisplayName: 'Microsoft Graph',
      resourceId: '00000003-0000-0000-c000-000000000000',
      servicePrincipalId: app.servicePrincipalId,
      servicePrincipalName: app.displayName,
      servicePrincipalCredentialKeyId: keyId,
      signInEventTypes: ['servicePrincipal'],
      status: { errorCode: 0, failureReason: null, additionalDetails: null },
    });
  }
}

function isAnswer(value: AzureApplication | SandboxAnswer): value is SandboxAnswer {
  return typeof (value as SandboxAnswer).status === 'number';
}

function graphError(status: number, code: string, message: string): SandboxAnswer {
  return {
    status,
    body: {
      error: {
        code,
        message,
        innerError: {
          date: new Date().toISOString().replace(/\.\d{3}Z$/, ''),
          'request-id': generateAzureGuid(),
          'client-request-id': generateAzureGuid(),
        },
      },
    },
  };
}

/** The identity platform's error: `AADSTS<code>: <message>` plus trace ids, and the numeric codes. */
function aadError(status: number, error: string, code: number, message: string): SandboxAnswer {
  const traceId = generateAzureGuid();
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${message} Trace ID: ${traceId}`,
      error_codes: [code],
      timestamp: new Date()
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, 'Z'),
      trace_id: traceId,
      correlation_id: generateAzureGuid(),
    },
  };
}
