// A local Google Cloud for service-account keys: the IAM API's `projects.serviceAccounts.keys` (create with a real
// RSA 2048 key file, list, get, `:disable`, `:enable`, delete; at most 10 user-managed keys per account), the OAuth 2
// token endpoint (`POST /token`, JWT bearer grant: the assertion's RS256 signature is checked with the key's public
// half), Policy Analyzer's `serviceAccountKeyLastAuthentication` activity (last use, moved by each token exchange),
// Resource Manager's `projects.getIamPolicy` (each service account's roles as bindings: a generated key's
// permissions are its account's roles, so an account's keys share them, as in Google), Cloud Audit Logs records
// naming the caller's `serviceAccountKeyName`, and Google's error shapes
// (`{error: {code, message, status, details}}` for APIs, `{error, error_description}` for OAuth).
import { createHash, createPublicKey, createVerify, type KeyObject, randomBytes } from 'node:crypto';
import type { Clock } from '../../../runtime/clock.js';
import { systemClock } from '../../../runtime/clock.js';
import { bearerToken } from '../../sandbox-credentials.js';
import { SandboxPathRouter } from '../../sandbox-path-router.js';
import type { SandboxSeed } from '../../sandbox-seed.js';
import type { SandboxAnswer, SandboxProvider, SandboxRequest, SandboxRouteMatch } from '../../sandbox-server.js';
import {
  type GcpServiceAccountKeyFile,
  gcpKeyFile,
  generateGcpKeyId,
  generateGcpKeyPair,
  generateGcpKeyPairSync,
} from './gcp-key-format.js';

const MAX_KEYS_PER_ACCOUNT = 10;
const TOKEN_LIFETIME_SECONDS = 3600;
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const KEY_ADMIN_ROLE = 'roles/iam.serviceAccountKeyAdmin';
/** Roles that hold `resourcemanager.projects.getIamPolicy` (the adapter's account holds the reviewer's). */
const POLICY_READER_ROLES = new Set(['roles/iam.securityReviewer', 'roles/viewer', 'roles/editor', 'roles/owner']);
const SA_PATH = '/v1/projects/:project/serviceAccounts/:account';
/** RSA 2048 pairs take 100-600 ms each on a busy machine: a few are kept ready (generated off the event loop). */
const KEY_PAIR_POOL_SIZE = 10;

export interface GcpSandboxOptions {
  clock?: Clock;
  projectId?: string;
  /** Service accounts to create at start (emails, or bare names in the project). */
  serviceAccounts?: string[];
}

interface GcpServiceAccount {
  email: string;
  uniqueId: string;
  projectId: string;
  roles: string[];
}

interface GcpKey {
  id: string;
  email: string;
  /** Absent for loaded keys whose file holds no private key (they cannot sign, so they never verify). */
  publicKey?: KeyObject;
  disabled: boolean;
  validAfter: Date;
  validBefore: Date;
  lastAuthenticated: Date | null;
}

interface AccessToken {
  email: string;
  keyId: string;
  expiresAt: number;
}

/** A Cloud Audit Logs entry (Admin Activity, or Data Access for a generated key's recorded use) as Logging returns it. */
export interface GcpAuditLogEntry {
  insertId: string;
  logName: string;
  timestamp: string;
  severity: 'NOTICE' | 'ERROR' | 'INFO';
  resource: { type: string; labels: Record<string, string> };
  protoPayload: {
    '@type': 'type.googleapis.com/google.cloud.audit.AuditLog';
    authenticationInfo: { principalEmail: string; serviceAccountKeyName?: string };
    requestMetadata: { callerIp: string; callerSuppliedUserAgent: string };
    serviceName: string;
    methodName: string;
    resourceName: string;
    request?: Record<string, unknown>;
    response?: Record<string, unknown>;
  };
}

export class GcpSandbox implements SandboxProvider {
  readonly name = 'gcp';
  readonly projectId: string;
  readonly #clock: Clock;
  readonly #router = new SandboxPathRouter();
  readonly #accounts = new Map<string, GcpServiceAccount>();
  readonly #keys = new Map<string, GcpKey>();
  readonly #tokens = new Map<string, AccessToken>();
  readonly #audit: GcpAuditLogEntry[] = [];
  readonly #adminKeyFile: GcpServiceAccountKeyFile;
  #nextUniqueId = 100_000_000_000_000_000_001n;
  #nextInsert = 1;
  readonly #keyPairs: Array<Promise<{ privateKeyPem: string; publicKey: KeyObject }>> = [];

  constructor(options: GcpSandboxOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.projectId = options.projectId ?? 'acme-prod';
    for (const account of options.serviceAccounts ?? []) this.addServiceAccount(account);
    const admin = this.addServiceAccount('keyledger-admin', [KEY_ADMIN_ROLE, 'roles/iam.securityReviewer']);
    const pair = generateGcpKeyPairSync();
    this.#adminKeyFile = this.#storeKey(admin, pair, 'https://oauth2.googleapis.com/token').file;
    const r = this.#router;
    r.add('POST', '/token', 'gcp:POST /token', (req) => this.#token(req));
    r.add('GET', '/v1/projects/:project/serviceAccounts', 'gcp:GET serviceAccounts', (req, p) =>
      this.#listAccounts(req, p.project!),
    );
    r.add('GET', `${SA_PATH}/keys`, 'gcp:GET serviceAccounts.keys', (req, p) => this.#list(req, p));
    r.add('POST', `${SA_PATH}/keys`, 'gcp:POST serviceAccounts.keys', (req, p) => this.#create(req, p));
    r.add('GET', `${SA_PATH}/keys/:key`, 'gcp:GET serviceAccounts.keys/{key}', (req, p) => this.#get(req, p));
    r.add('POST', `${SA_PATH}/keys/:keyAction`, 'gcp:POST serviceAccounts.keys/{key}:action', (req, p) =>
      this.#action(req, p),
    );
    r.add('DELETE', `${SA_PATH}/keys/:key`, 'gcp:DELETE serviceAccounts.keys/{key}', (req, p) => this.#delete(req, p));
    r.add(
      'GET',
      '/v1/projects/:project/locations/:location/activityTypes/serviceAccountKeyLastAuthentication/activities:query',
      'gcp:GET activities:query',
      (req, p) => this.#activities(req, p.project!),
    );
    // Resource Manager's `v1/projects/{resource}:getIamPolicy` (the custom verb rides on the last segment).
    r.add('POST', '/v1/projects/:resourceVerb', 'gcp:POST projects:getIamPolicy', (req, p) =>
      this.#getIamPolicy(req, p.resourceVerb!),
    );
  }

  /** The adapter's credential: a key file of a service account holding the key-admin role, for this token URL. */
  adminKeyFile(tokenUri: string): GcpServiceAccountKeyFile {
    return { ...this.#adminKeyFile, token_uri: tokenUri };
  }

  /** Adds a service account (`name` or a full email) with the given roles. */
  addServiceAccount(nameOrEmail: string, roles: string[] = []): GcpServiceAccount {
    const email = nameOrEmail.includes('@') ? nameOrEmail : `${nameOrEmail}@${this.projectId}.iam.gserviceaccount.com`;
    let account = this.#accounts.get(email);
    if (!account) {
      const projectId = /@([^.]+)\.iam\.gserviceaccount\.com$/.exec(email)?.[1] ?? this.projectId;
      account = { email, uniqueId: String(this.#nextUniqueId++), projectId, roles };
      this.#accounts.set(email, account);
    }
    return account;
  }

  /** Organisation keys: their accounts are created, and each key file's public half kept to check its signatures. */
  load(seed: SandboxSeed): void {
    // A generated organisation's key files share one RSA pair: parse each PEM once.
    const publicKeys = new Map<string, KeyObject>();
    for (const seeded of seed.keys) {
      if (seeded.provider !== this.name) continue;
      const account = this.addServiceAccount(seeded.account);
      // Roles are granted to the account, not the key: the account holds the union of its keys' permissions
      // (the generator gives an account's keys one set, src/sandbox/org/org-generator.ts).
      for (const role of seeded.permissions) if (!account.roles.includes(role)) account.roles.push(role);
      let publicKey: KeyObject | undefined;
      try {
        const file = JSON.parse(seeded.secret) as Partial<GcpServiceAccountKeyFile>;
        if (file.private_key) {
          publicKey = publicKeys.get(file.private_key) ?? createPublicKey(file.private_key);
          publicKeys.set(file.private_key, publicKey);
        }
      } catch {
        publicKey = undefined;
      }
      const created = new Date(seeded.createdAt);
      this.#keys.set(seeded.providerKeyId, {
        id: seeded.providerKeyId,
        email: account.email,
        ...(publicKey ? { publicKey } : {}),
        disabled: seeded.status !== 'active',
        validAfter: created,
        validBefore: new Date('9999-12-31T23:59:59Z'),
        lastAuthenticated: seeded.lastUsedAt ? new Date(seeded.lastUsedAt) : null,
      });
      // The key's recorded use, as a Data Access audit log keeps it (with the caller's address): from each consuming
      // team's address for a key several teams use (src/sandbox/org/org-generator.ts, plantSharedUses), else one.
      if (seeded.lastUsedAt)
        for (const from of seeded.sharedUseFrom ?? ['203.0.113.20'])
          this.#recordUse(account, seeded.providerKeyId, new Date(seeded.lastUsedAt), from);
    }
  }

  #recordUse(account: GcpServiceAccount, keyId: string, at: Date, callerIp: string): void {
    this.#audit.push({
      insertId: `${at.getTime().toString(36)}${String(this.#nextInsert++).padStart(6, '0')}`,
      logName: `projects/${account.projectId}/logs/cloudaudit.googleapis.com%2Fdata_access`,
      timestamp: at.toISOString(),
      severity: 'INFO',
      resource: {
        type: 'gcs_bucket',
        labels: { project_id: account.projectId, bucket_name: `${account.projectId}-data` },
      },
      protoPayload: {
        '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
        authenticationInfo: { principalEmail: account.email, serviceAccountKeyName: fullKeyName(account, keyId) },
        requestMetadata: { callerIp, callerSuppliedUserAgent: 'google-cloud-sdk' },
        serviceName: 'storage.googleapis.com',
        methodName: 'storage.objects.get',
        resourceName: `projects/_/buckets/${account.projectId}-data/objects/export.json`,
      },
    });
  }

  match(request: SandboxRequest): SandboxRouteMatch | undefined {
    return this.#router.match(request);
  }

  notFound(request: SandboxRequest): SandboxAnswer {
    return apiError(404, 'NOT_FOUND', `The requested URL ${request.path} was not found on this server.`);
  }

  /** Google answers RESOURCE_EXHAUSTED with a RetryInfo detail, not a Retry-After header. */
  rateLimited(retryAfter: string, status?: number): SandboxAnswer {
    const seconds = /^\d+$/.test(retryAfter)
      ? Number(retryAfter)
      : Math.max(0, Math.ceil((Date.parse(retryAfter) - Date.now()) / 1000));
    return apiError(
      status ?? 429,
      'RESOURCE_EXHAUSTED',
      "Quota exceeded for quota metric 'Key requests' and limit 'Key requests per minute' of service 'iam.googleapis.com'.",
      [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${seconds}s` }],
    );
  }

  failure(status: number, echo?: string): SandboxAnswer {
    return apiError(
      status,
      status === 503 ? 'UNAVAILABLE' : 'INTERNAL',
      `Internal error encountered.${echo ? ` (${echo})` : ''}`,
    );
  }

  callerSecret(request: SandboxRequest): string | undefined {
    if (request.path === '/token') return new URLSearchParams(request.text).get('assertion') ?? undefined;
    return bearerToken(request);
  }

  control(request: SandboxRequest, subpath: string): SandboxAnswer | undefined {
    if (request.method === 'POST' && subpath === 'service-accounts') {
      const { name, roles } = JSON.parse(request.text || '{}') as { name?: string; roles?: string[] };
      if (!name) return { status: 400, body: { error: 'name required' } };
      const account = this.addServiceAccount(name, roles ?? []);
      return { status: 201, body: { email: account.email, uniqueId: account.uniqueId } };
    }
    return undefined;
  }

  auditLog(): GcpAuditLogEntry[] {
    return [...this.#audit];
  }

  groundTruth(): unknown {
    return {
      serviceAccounts: [...this.#accounts.values()].map((a) => ({
        email: a.email,
        uniqueId: a.uniqueId,
        roles: a.roles,
      })),
      keys: [...this.#keys.values()].map((k) => ({
        id: k.id,
        account: k.email,
        disabled: k.disabled,
        lastAuthenticated: k.lastAuthenticated?.toISOString() ?? null,
      })),
    };
  }

  async #mintKey(
    account: GcpServiceAccount,
    tokenUri: string,
  ): Promise<{ key: GcpKey; file: GcpServiceAccountKeyFile }> {
    const pair = this.#keyPairs.shift() ?? this.#generatePair();
    // The pool fills on first use, so a sandbox that never mints keys never spends the CPU.
    while (this.#keyPairs.length < KEY_PAIR_POOL_SIZE) this.#keyPairs.push(this.#generatePair());
    return this.#storeKey(account, await pair, tokenUri);
  }

  #generatePair(): Promise<{ privateKeyPem: string; publicKey: KeyObject }> {
    const pair = generateGcpKeyPair();
    // Kept for later: a failure surfaces when the pair is taken, not as an unhandled rejection now.
    pair.catch(() => undefined);
    return pair;
  }

  #storeKey(
    account: GcpServiceAccount,
    pair: { privateKeyPem: string; publicKey: KeyObject },
    tokenUri: string,
  ): { key: GcpKey; file: GcpServiceAccountKeyFile } {
    const now = this.#clock();
    const key: GcpKey = {
      id: generateGcpKeyId(Math.random),
      email: account.email,
      publicKey: pair.publicKey,
      disabled: false,
      validAfter: now,
      validBefore: new Date('9999-12-31T23:59:59Z'),
      lastAuthenticated: null,
    };
    this.#keys.set(key.id, key);
    const file = gcpKeyFile({
      projectId: account.projectId,
      keyId: key.id,
      privateKeyPem: pair.privateKeyPem,
      email: account.email,
      uniqueId: account.uniqueId,
      tokenUri,
    });
    return { key, file };
  }

  #keyJson(key: GcpKey, account: GcpServiceAccount, privateKeyData?: string) {
    return {
      name: `projects/${account.projectId}/serviceAccounts/${account.email}/keys/${key.id}`,
      validAfterTime: key.validAfter.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      validBeforeTime: key.validBefore.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      keyAlgorithm: 'KEY_ALG_RSA_2048',
      keyOrigin: 'GOOGLE_PROVIDED',
      keyType: 'USER_MANAGED',
      ...(key.disabled ? { disabled: true } : {}),
      ...(privateKeyData ? { privateKeyType: 'TYPE_GOOGLE_CREDENTIALS_FILE', privateKeyData } : {}),
    };
  }

  /** The OAuth 2 JWT-bearer grant: an RS256 assertion signed with a service-account key, as Google checks it. */
  #token(request: SandboxRequest): SandboxAnswer {
    const form = new URLSearchParams(request.text);
    if (form.get('grant_type') !== JWT_BEARER) {
      return oauthError(400, 'unsupported_grant_type', 'Invalid grant_type: ' + (form.get('grant_type') ?? ''));
    }
    const assertion = form.get('assertion') ?? '';
    const parts = assertion.split('.');
    const badSignature = oauthError(400, 'invalid_grant', 'Invalid JWT Signature.');
    if (parts.length !== 3) return oauthError(400, 'invalid_grant', 'Invalid JWT: malformed assertion.');
    let header: { alg?: string; kid?: string };
    let claims: { iss?: string; aud?: string; iat?: number; exp?: number; scope?: string };
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return oauthError(400, 'invalid_grant', 'Invalid JWT: malformed assertion.');
    }
    const key = header.kid ? this.#keys.get(header.kid) : undefined;
    if (header.alg !== 'RS256' || !key?.publicKey || key.disabled) return badSignature;
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${parts[0]}.${parts[1]}`);
    if (!verifier.verify(key.publicKey, Buffer.from(parts[2]!, 'base64url'))) return badSignature;
    const now = Math.floor(this.#clock().getTime() / 1000);
    if (
      typeof claims.iat !== 'number' ||
      typeof claims.exp !== 'number' ||
      claims.exp <= now ||
      claims.iat > now + 300 ||
      claims.exp - claims.iat > TOKEN_LIFETIME_SECONDS
    ) {
      return oauthError(
        400,
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
      );
    }
    if (claims.iss !== key.email) return oauthError(400, 'invalid_grant', 'Invalid grant: account not found');
    if (!claims.aud?.endsWith('/token'))
      return oauthError(400, 'invalid_grant', 'Invalid JWT: audience is not the token endpoint.');
    key.lastAuthenticated = this.#clock();
    const accessToken = `ya29.${randomBytes(48).toString('base64url')}`;
    this.#tokens.set(accessToken, { email: key.email, keyId: key.id, expiresAt: now + TOKEN_LIFETIME_SECONDS });
    return {
      status: 200,
      body: { access_token: accessToken, expires_in: TOKEN_LIFETIME_SECONDS - 1, token_type: 'Bearer' },
    };
  }

  /** A live access token of an account holding the key-admin role, and the account addressed by the path. */
  #authorise(
    request: SandboxRequest,
    params: Record<string, string>,
    permission: string,
  ): { caller: AccessToken; account: GcpServiceAccount } | SandboxAnswer {
    const value = bearerToken(request);
    const caller = value ? this.#tokens.get(value) : undefined;
    if (!caller || caller.expiresAt <= Math.floor(this.#clock().getTime() / 1000)) {
      return apiError(
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      );
    }
    const account = this.#accounts.get(params.account!);
    const projectMatches = params.project === '-' || params.project === account?.projectId;
    const admin = this.#accounts.get(caller.email)?.roles.includes(KEY_ADMIN_ROLE) ?? false;
    // With the `-` wildcard Google answers a missing account with 403, not 404.
    if (!account || !projectMatches || !admin) {
      return apiError(
        403,
        'PERMISSION_DENIED',
        `Permission '${permission}' denied on resource (or it may not exist).`,
        [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'IAM_PERMISSION_DENIED',
            domain: 'iam.googleapis.com',
            metadata: { permission },
          },
        ],
      );
    }
    return { caller, account };
  }

  /**
   * `projects.getIamPolicy`: the project's bindings, one per role, naming the service accounts that hold it. Google
   * denies (403) a caller without `resourcemanager.projects.getIamPolicy` and a project that does not exist alike.
   */
  #getIamPolicy(request: SandboxRequest, resourceVerb: string): SandboxAnswer {
    const verb = ':getIamPolicy';
    if (!resourceVerb.endsWith(verb)) return this.notFound(request);
    const project = resourceVerb.slice(0, -verb.length);
    const value = bearerToken(request);
    const caller = value ? this.#tokens.get(value) : undefined;
    if (!caller || caller.expiresAt <= Math.floor(this.#clock().getTime() / 1000))
      return apiError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    const accounts = [...this.#accounts.values()].filter((a) => a.projectId === project);
    const reader = this.#accounts.get(caller.email)?.roles.some((role) => POLICY_READER_ROLES.has(role)) ?? false;
    if (!reader || (project !== this.projectId && accounts.length === 0)) {
      const permission = 'resourcemanager.projects.getIamPolicy';
      return apiError(403, 'PERMISSION_DENIED', `The caller does not have permission`, [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'IAM_PERMISSION_DENIED',
          domain: 'cloudresourcemanager.googleapis.com',
          metadata: { permission },
        },
      ]);
    }
    const members = new Map<string, string[]>();
    for (const account of accounts)
      for (const role of account.roles)
        members.set(role, [...(members.get(role) ?? []), `serviceAccount:${account.email}`]);
    const bindings = [...members]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([role, list]) => ({ role, members: list }));
    // Google's etag is an opaque digest of the policy, changing with it.
    const etag = createHash('sha256').update(JSON.stringify(bindings)).digest().subarray(0, 8).toString('base64');
    return { status: 200, body: { version: 1, etag, bindings } };
  }

  /** `projects.serviceAccounts.list`, paged by `pageSize` / `pageToken`. */
  #listAccounts(request: SandboxRequest, project: string): SandboxAnswer {
    const value = bearerToken(request);
    const caller = value ? this.#tokens.get(value) : undefined;
    if (!caller) return apiError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    const all = [...this.#accounts.values()].filter((a) => project === '-' || a.projectId === project);
    const size = Math.min(100, Math.max(1, Number(request.query.get('pageSize') ?? 20) || 20));
    const start = Number(request.query.get('pageToken') ?? 0) || 0;
    const page = all.slice(start, start + size);
    return {
      status: 200,
      body: {
        accounts: page.map((a) => ({
          name: `projects/${a.projectId}/serviceAccounts/${a.email}`,
          projectId: a.projectId,
          uniqueId: a.uniqueId,
          email: a.email,
          oauth2ClientId: a.uniqueId,
        })),
        ...(start + size < all.length ? { nextPageToken: String(start + size) } : {}),
      },
    };
  }

  #list(request: SandboxRequest, params: Record<string, string>): SandboxAnswer {
    const auth = this.#authorise(request, params, 'iam.serviceAccountKeys.list');
    if ('status' in auth) return auth;
    const types = request.query.getAll('keyTypes');
    // Only user-managed keys exist here; asking for SYSTEM_MANAGED alone lists none.
    const keys = types.length && !types.includes('USER_MANAGED') ? [] : this.#keysOf(auth.account.email);
    return { status: 200, body: { keys: keys.map((key) => this.#keyJson(key, auth.account)) } };
  }

  async #create(request: SandboxRequest, params: Record<string, string>): Promise<SandboxAnswer> {
    const auth = this.#authorise(request, params, 'iam.serviceAccountKeys.create');
    if ('status' in auth) return auth;
    const body = (request.text ? JSON.parse(request.text) : {}) as { privateKeyType?: string; keyAlgorithm?: string };
    if (body.privateKeyType && body.privateKeyType !== 'TYPE_GOOGLE_CREDENTIALS_FILE') {
      return apiError(400, 'INVALID_ARGUMENT', `Unsupported privateKeyType ${body.privateKeyType}.`);
    }
    if (body.keyAlgorithm && body.keyAlgorithm !== 'KEY_ALG_RSA_2048') {
      return apiError(400, 'INVALID_ARGUMENT', `Unsupported keyAlgorithm ${body.keyAlgorithm}.`);
    }
    // The quota counts disabled keys too: 10 user-managed keys per service account.
    if (this.#keysOf(auth.account.email).length >= MAX_KEYS_PER_ACCOUNT) {
      return apiError(400, 'FAILED_PRECONDITION', 'Precondition check failed.');
    }
    const { key, file } = await this.#mintKey(auth.account, `http://${request.headers.host ?? '127.0.0.1'}/token`);
    this.#record(request, auth, 'google.iam.admin.v1.CreateServiceAccountKey', key);
    const privateKeyData = Buffer.from(JSON.stringify(file, null, 2)).toString('base64');
    return { status: 200, body: this.#keyJson(key, auth.account, privateKeyData) };
  }

  #get(request: SandboxRequest, params: Record<string, string>): SandboxAnswer {
    const auth = this.#authorise(request, params, 'iam.serviceAccountKeys.get');
    if ('status' in auth) return auth;
    const key = this.#keys.get(params.key!);
    if (!key || key.email !== auth.account.email) return this.#keyMissing(auth.account, params.key!);
    return { status: 200, body: this.#keyJson(key, auth.account) };
  }

  #action(request: SandboxRequest, params: Record<string, string>): SandboxAnswer {
    const [keyId, verb] = (params.keyAction ?? '').split(':') as [string, string | undefined];
    if (verb !== 'disable' && verb !== 'enable') return this.notFound(request);
    const auth = this.#authorise(request, params, `iam.serviceAccountKeys.${verb}`);
    if ('status' in auth) return auth;
    const key = this.#keys.get(keyId);
    if (!key || key.email !== auth.account.email) return this.#keyMissing(auth.account, keyId);
    key.disabled = verb === 'disable';
    this.#record(
      request,
      auth,
      `google.iam.admin.v1.${verb === 'disable' ? 'Disable' : 'Enable'}ServiceAccountKey`,
      key,
    );
    return { status: 200, body: {} };
  }

  #delete(request: SandboxRequest, params: Record<string, string>): SandboxAnswer {
    const auth = this.#authorise(request, params, 'iam.serviceAccountKeys.delete');
    if ('status' in auth) return auth;
    const key = this.#keys.get(params.key!);
    if (!key || key.email !== auth.account.email) return this.#keyMissing(auth.account, params.key!);
    this.#keys.delete(key.id);
    this.#record(request, auth, 'google.iam.admin.v1.DeleteServiceAccountKey', key);
    return { status: 200, body: {} };
  }

  /** Policy Analyzer: `filter=activities.full_resource_name="//iam.googleapis.com/projects/.../keys/<id>"`. */
  #activities(request: SandboxRequest, project: string): SandboxAnswer {
    const value = bearerToken(request);
    const caller = value ? this.#tokens.get(value) : undefined;
    if (!caller) return apiError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    const filter = request.query.get('filter') ?? '';
    const wanted = /activities\.full_resource_name\s*=\s*"([^"]+)"/.exec(filter)?.[1];
    const keys = [...this.#keys.values()].filter((key) => {
      const account = this.#accounts.get(key.email)!;
      return (
        key.lastAuthenticated !== null &&
        (project === account.projectId || project === '-') &&
        (!wanted || wanted === fullKeyName(account, key.id))
      );
    });
    const now = this.#clock().toISOString();
    return {
      status: 200,
      body: {
        activities: keys.map((key) => {
          const account = this.#accounts.get(key.email)!;
          return {
            fullResourceName: fullKeyName(account, key.id),
            activityType: 'serviceAccountKeyLastAuthentication',
            activity: {
              lastAuthenticatedTime: key.lastAuthenticated!.toISOString(),
              serviceAccountKey: {
                serviceAccountId: account.uniqueId,
                projectNumber: '123456789012',
                fullResourceName: fullKeyName(account, key.id),
              },
            },
            observationPeriod: { startTime: key.validAfter.toISOString(), endTime: now },
          };
        }),
      },
    };
  }

  #keysOf(email: string): GcpKey[] {
    return [...this.#keys.values()].filter((key) => key.email === email);
  }

  #keyMissing(account: GcpServiceAccount, keyId: string): SandboxAnswer {
    return apiError(
      404,
      'NOT_FOUND',
      `Service account key projects/-/serviceAccounts/${account.email}/keys/${keyId} does not exist.`,
    );
  }

  #record(
    request: SandboxRequest,
    auth: { caller: AccessToken; account: GcpServiceAccount },
    methodName: string,
    key: GcpKey,
  ): void {
    const callerAccount = this.#accounts.get(auth.caller.email)!;
    this.#audit.push({
      insertId: `${Date.now().toString(36)}${String(this.#nextInsert++).padStart(6, '0')}`,
      logName: `projects/${auth.account.projectId}/logs/cloudaudit.googleapis.com%2Factivity`,
      timestamp: this.#clock().toISOString(),
      severity: 'NOTICE',
      resource: {
        type: 'service_account',
        labels: { email_id: auth.account.email, project_id: auth.account.projectId, unique_id: auth.account.uniqueId },
      },
      protoPayload: {
        '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
        authenticationInfo: {
          principalEmail: auth.caller.email,
          serviceAccountKeyName: fullKeyName(callerAccount, auth.caller.keyId),
        },
        requestMetadata: {
          callerIp: request.remoteAddress.replace(/^::ffff:/, ''),
          callerSuppliedUserAgent: String(request.headers['user-agent'] ?? ''),
        },
        serviceName: 'iam.googleapis.com',
        methodName,
        resourceName: `projects/-/serviceAccounts/${auth.account.uniqueId}`,
        request: { name: `projects/-/serviceAccounts/${auth.account.email}/keys/${key.id}` },
        response: { name: `projects/${auth.account.projectId}/serviceAccounts/${auth.account.email}/keys/${key.id}` },
      },
    });
  }
}

function fullKeyName(account: GcpServiceAccount, keyId: string): string {
  return `//iam.googleapis.com/projects/${account.projectId}/serviceAccounts/${account.email}/keys/${keyId}`;
}

function apiError(status: number, code: string, message: string, details?: unknown[]): SandboxAnswer {
  return { status, body: { error: { code: status, message, status: code, ...(details ? { details } : {}) } } };
}

function oauthError(status: number, error: string, description: string): SandboxAnswer {
  return { status, body: { error, error_description: description } };
}
