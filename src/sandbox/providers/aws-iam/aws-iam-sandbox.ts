// A local AWS that speaks IAM's and STS's query protocol for access keys: users, at most two keys per user
// (LimitExceeded), Active/Inactive/deleted, last used, SigV4 on every call, eventual consistency (a new key
// fails authentication for a configurable delay), and CloudTrail records naming the access key of each call.
// A user's policies are listed by name (ListAttachedUserPolicies, ListUserPolicies): an organisation key's
// permissions become its user's policies (userPoliciesOf), and an administrator holds AdministratorAccess.

import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../../../runtime/clock.js';
import { systemClock } from '../../../runtime/clock.js';
import type { SandboxSeed } from '../../sandbox-seed.js';
import type { SandboxAnswer, SandboxProvider, SandboxRequest, SandboxRouteMatch } from '../../sandbox-server.js';
import { credentialReportCsv } from './aws-credential-report.js';
import { awsKeyHomeAddress } from './aws-iam-home-address.js';
import { generateAwsAccessKey, generateAwsUserId } from './aws-iam-key-format.js';
import { IAM_XMLNS, queryError, queryResponse, STS_XMLNS, type XmlElement } from './aws-query-xml.js';
import { parseSigV4Credential, verifySigV4 } from './aws-sigv4-verifier.js';

export const AWS_MAX_KEYS_PER_USER = 2;
const PAGE_SIZE = 100;
const STS_ACTIONS = new Set(['GetCallerIdentity']);

export interface AwsIamSandboxOptions {
  clock?: Clock;
  accountId?: string;
  /** How long a new key fails authentication (IAM's eventual consistency), in real milliseconds. */
  consistencyDelayMs?: number;
  /** The user the adapters authenticate as; created with one key at start. */
  adminUserName?: string;
}

interface AwsUser {
  userName: string;
  userId: string;
  createDate: Date;
  /** May call IAM (holds an administrator policy). */
  admin: boolean;
  /** Names of the managed policies attached to the user (`AdministratorAccess`). */
  attachedPolicies: Set<string>;
  /** Names of the user's inline policies. */
  inlinePolicies: Set<string>;
  /** IAM actions refused to the user although it is an administrator (a deny statement), e.g. `ListUserPolicies`. */
  deniedActions: Set<string>;
}

interface AwsKey {
  accessKeyId: string;
  secretAccessKey: string;
  userName: string;
  status: 'Active' | 'Inactive';
  createDate: Date;
  lastUsed?: { date: Date; service: string; region: string };
  /** Real time (Date.now) before which authentication with the key fails. */
  visibleAt: number;
}

export interface CloudTrailRecord {
  eventVersion: string;
  userIdentity: {
    type: string;
    principalId: string;
    arn: string;
    accountId: string;
    accessKeyId: string;
    userName: string;
  };
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent: string;
  requestParameters: Record<string, unknown> | null;
  responseElements: Record<string, unknown> | null;
  errorCode?: string;
  errorMessage?: string;
  requestID: string;
  eventID: string;
  readOnly: boolean;
  eventType: 'AwsApiCall';
  managementEvent: boolean;
  recipientAccountId: string;
}

/** AWS's managed policy that allows every action on every resource. */
export const AWS_ADMINISTRATOR_POLICY = 'AdministratorAccess';

/**
 * Where a generated key's permissions live on its user (src/sandbox/org/org-key-formats.ts, 'aws-iam'): a name
 * without a colon (`AdministratorAccess`) is an AWS managed policy attached to the user; an action
 * (`s3:GetObject`) is an inline policy allowing it, named after it with the colon as a dash (`s3-GetObject`:
 * IAM policy names allow only `[\w+=,.@-]`). The generator gives each user one key, so a user's policies are the
 * permissions of its one key, and reading them per user tells each key's.
 */
export function userPoliciesOf(permissions: string[]): { attached: string[]; inline: string[] } {
  const attached: string[] = [];
  const inline: string[] = [];
  for (const permission of permissions) {
    if (permission.includes(':')) inline.push(permission.replace(/[^\w+=,.@-]/g, '-'));
    else attached.push(permission);
  }
  return { attached, inline };
}

/** The service and action a key's permission suggests it calls (`s3:GetObject` -> s3 GetObject). */
function serviceCallOf(permissions: string[]): [string, string] {
  const first = permissions[0] ?? '';
  const match = /^([a-z0-9-]+):([A-Za-z]+)$/.exec(first);
  if (match) return [match[1]!, match[2]!];
  return ['iam', 'ListUsers'];
}

export class AwsIamSandbox implements SandboxProvider {
  readonly name = 'aws-iam';
  readonly accountId: string;
  readonly #clock: Clock;
  #consistencyDelayMs: number;
  readonly #users = new Map<string, AwsUser>();
  readonly #keys = new Map<string, AwsKey>();
  readonly #keysByUser = new Map<string, string[]>();
  readonly #trail: CloudTrailRecord[] = [];
  readonly admin: { accessKeyId: string; secretAccessKey: string; userName: string };
  /** When the account was made (the root row of the credential report). */
  readonly #created: Date;
  #credentialReport: { generated: Date; csv: string } | undefined;

  constructor(options: AwsIamSandboxOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#created = this.#clock();
    this.accountId = options.accountId ?? '123456789012';
    this.#consistencyDelayMs = options.consistencyDelayMs ?? 0;
    const adminUserName = options.adminUserName ?? 'keyledger-admin';
    this.#addUser(adminUserName, true);
    const key = generateAwsAccessKey(Math.random);
    this.#addKey({ ...key, userName: adminUserName, status: 'Active', createDate: this.#clock(), visibleAt: 0 });
    this.admin = { ...key, userName: adminUserName };
  }

  set consistencyDelayMs(ms: number) {
    this.#consistencyDelayMs = ms;
  }

  /** Loads an organisation's IAM users and access keys. */
  load(seed: SandboxSeed): void {
    const history: CloudTrailRecord[] = [];
    for (const key of seed.keys) {
      if (key.provider !== this.name || key.status === 'revoked') continue;
      const admin = key.permissions.some((p) => /admin|^\*$|iam:\*/i.test(p));
      const user = this.#users.get(key.account) ?? this.#addUser(key.account, admin, new Date(key.createdAt));
      if (admin) user.admin = true;
      const policies = userPoliciesOf(key.permissions);
      for (const name of policies.attached) user.attachedPolicies.add(name);
      for (const name of policies.inline) user.inlinePolicies.add(name);
      const [service, action] = serviceCallOf(key.permissions);
      this.#addKey({
        accessKeyId: key.providerKeyId,
        secretAccessKey: key.secret,
        userName: key.account,
        status: key.status === 'inactive' ? 'Inactive' : 'Active',
        createDate: new Date(key.createdAt),
        ...(key.lastUsedAt ? { lastUsed: { date: new Date(key.lastUsedAt), service, region: 'us-east-1' } } : {}),
        visibleAt: 0,
      });
      // The key's last use, as CloudTrail recorded it: audits can see who used a key, from where, and when.
      if (key.lastUsedAt) {
        // A key several teams' services call is recorded from each of their addresses instead of one.
        for (const from of key.sharedUseFrom ?? [awsKeyHomeAddress(key.providerKeyId)])
          history.push(this.#historicalRecord(key.providerKeyId, user, service, action, key.lastUsedAt, from));
        // A planted anomaly: the same call from an address the key's owners never use.
        if (key.strayUseFrom)
          history.push(
            this.#historicalRecord(key.providerKeyId, user, service, action, key.lastUsedAt, key.strayUseFrom),
          );
      }
      // The key a rotation replaced (deleted then, so not held): its last use before the rotation, from the
      // service's address, and a call with it after, which IAM refused as it refuses any key it does not hold.
      if (key.rotatedOut) {
        const { previousKeyId, rotatedAt, usedAt, usedFrom } = key.rotatedOut;
        const before = new Date(Date.parse(rotatedAt) - 3_600_000).toISOString();
        const home = awsKeyHomeAddress(key.providerKeyId);
        history.push(this.#historicalRecord(previousKeyId, user, service, action, before, home));
        history.push({
          ...this.#historicalRecord(previousKeyId, user, service, action, usedAt, usedFrom),
          errorCode: 'InvalidClientTokenId',
          errorMessage: 'The security token included in the request is invalid.',
        });
      }
    }
    history.sort((a, b) => a.eventTime.localeCompare(b.eventTime));
    this.#trail.unshift(...history);
  }

  #historicalRecord(
    accessKeyId: string,
    user: AwsUser,
    service: string,
    action: string,
    at: string,
    sourceIPAddress = awsKeyHomeAddress(accessKeyId),
  ): CloudTrailRecord {
    return {
      eventVersion: '1.08',
      userIdentity: {
        type: 'IAMUser',
        principalId: user.userId,
        arn: this.#arn(user.userName),
        accountId: this.accountId,
        accessKeyId,
        userName: user.userName,
      },
      eventTime: `${new Date(at).toISOString().slice(0, 19)}Z`,
      eventSource: `${service}.amazonaws.com`,
      eventName: action,
      awsRegion: 'us-east-1',
      sourceIPAddress,
      userAgent: 'aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64',
      requestParameters: null,
      responseElements: null,
      requestID: randomUUID(),
      eventID: randomUUID(),
      readOnly: /^(Get|List|Describe)/.test(action),
      eventType: 'AwsApiCall',
      managementEvent: service === 'iam',
      recipientAccountId: this.accountId,
    };
  }

  match(request: SandboxRequest): SandboxRouteMatch | undefined {
    if (request.path !== '/' || (request.method !== 'POST' && request.method !== 'GET')) return undefined;
    const params = request.method === 'POST' ? new URLSearchParams(request.text) : request.query;
    const action = params.get('Action');
    if (!action) return undefined;
    const service = STS_ACTIONS.has(action) ? 'sts' : 'iam';
    return { operation: `${service}:${action}`, handle: () => this.#handle(request, service, action, params) };
  }

  notFound(): SandboxAnswer {
    return queryError(404, 'UnknownOperationException', 'The requested operation is not supported.', IAM_XMLNS);
  }

  rateLimited(retryAfter: string, status?: number): SandboxAnswer {
    // AWS throttles with 400 Throttling and no Retry-After; a fault may ask for 429 with one.
    return queryError(
      status ?? 400,
      'Throttling',
      'Rate exceeded',
      IAM_XMLNS,
      status ? { 'retry-after': retryAfter } : {},
    );
  }

  failure(status: number, echo?: string): SandboxAnswer {
    const code = status === 503 ? 'ServiceUnavailable' : 'ServiceFailure';
    const message = `The request processing has failed because of an unknown error${echo ? ` (credential ${echo})` : ''}.`;
    return queryError(status, code, message, IAM_XMLNS);
  }

  callerSecret(request: SandboxRequest): string | undefined {
    const credential = parseSigV4Credential(request);
    return credential ? this.#keys.get(credential.accessKeyId)?.secretAccessKey : undefined;
  }

  control(request: SandboxRequest, subpath: string): SandboxAnswer | undefined {
    if (request.method === 'PUT' && subpath === 'consistency-delay') {
      const { ms } = JSON.parse(request.text || '{}') as { ms?: number };
      this.#consistencyDelayMs = Math.max(0, ms ?? 0);
      return { status: 200, body: { ms: this.#consistencyDelayMs } };
    }
    if (request.method === 'POST' && subpath === 'users') {
      const { userName, admin, policies, deniedActions } = JSON.parse(request.text || '{}') as {
        userName?: string;
        admin?: boolean;
        /** Permissions as a generated key names them, made the user's policies (userPoliciesOf). */
        policies?: string[];
        deniedActions?: string[];
      };
      if (!userName) return { status: 400, body: { error: 'userName is required' } };
      const user = this.#users.get(userName) ?? this.#addUser(userName, admin ?? false);
      const { attached, inline } = userPoliciesOf(policies ?? []);
      for (const name of attached) user.attachedPolicies.add(name);
      for (const name of inline) user.inlinePolicies.add(name);
      for (const action of deniedActions ?? []) user.deniedActions.add(action);
      return { status: 201, body: { userName: user.userName, userId: user.userId, arn: this.#arn(user.userName) } };
    }
    if (request.method === 'GET' && subpath === 'admin-credentials') {
      return { status: 200, body: this.admin };
    }
    return undefined;
  }

  auditLog(): { Records: CloudTrailRecord[] } {
    return { Records: [...this.#trail] };
  }

  groundTruth(): unknown {
    return {
      accountId: this.accountId,
      users: this.#users.size,
      keys: [...this.#keys.values()].map((key) => ({
        accessKeyId: key.accessKeyId,
        userName: key.userName,
        status: key.status,
        createDate: key.createDate.toISOString(),
        lastUsedDate: key.lastUsed?.date.toISOString() ?? null,
      })),
    };
  }

  #addUser(userName: string, admin: boolean, createDate: Date = this.#clock()): AwsUser {
    const user: AwsUser = {
      userName,
      userId: generateAwsUserId(Math.random),
      createDate,
      admin,
      attachedPolicies: new Set(admin ? [AWS_ADMINISTRATOR_POLICY] : []),
      inlinePolicies: new Set(),
      deniedActions: new Set(),
    };
    this.#users.set(userName, user);
    this.#keysByUser.set(userName, []);
    return user;
  }

  #addKey(key: AwsKey): void {
    this.#keys.set(key.accessKeyId, key);
    this.#keysByUser.get(key.userName)?.push(key.accessKeyId);
  }

  #arn(userName: string): string {
    return `arn:aws:iam::${this.accountId}:user/${userName}`;
  }

  async #handle(
    request: SandboxRequest,
    service: 'iam' | 'sts',
    action: string,
    params: URLSearchParams,
  ): Promise<SandboxAnswer> {
    const xmlns = service === 'sts' ? STS_XMLNS : IAM_XMLNS;
    const now = Date.now();
    const outcome = verifySigV4(request, (id) => {
      const key = this.#keys.get(id);
      // Inactive keys and keys IAM has not yet propagated are unknown to the authenticating service.
      return key && key.status === 'Active' && key.visibleAt <= now ? key.secretAccessKey : undefined;
    });
    if (!outcome.ok) {
      const messages: Record<string, [number, string]> = {
        MissingAuthenticationToken: [403, 'Request is missing Authentication Token'],
        IncompleteSignature: [400, 'Authorization header requires Credential, SignedHeaders and Signature parameters.'],
        InvalidClientTokenId: [403, 'The security token included in the request is invalid.'],
        SignatureDoesNotMatch: [
          403,
          'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
        ],
      };
      const [status, message] = messages[outcome.code]!;
      return queryError(status, outcome.code, message, xmlns);
    }
    const key = this.#keys.get(outcome.credential.accessKeyId)!;
    const caller = this.#users.get(key.userName)!;
    key.lastUsed = { date: this.#clock(), service, region: outcome.credential.region };
    const record = (
      answer: SandboxAnswer,
      requestParameters: Record<string, unknown> | null,
      responseElements: Record<string, unknown> | null = null,
    ) => {
      this.#record(
        request,
        service,
        action,
        key,
        caller,
        outcome.credential.region,
        answer,
        requestParameters,
        responseElements,
      );
      return answer;
    };
    if (service === 'sts') {
      return record(
        queryResponse(action, xmlns, {
          Arn: this.#arn(caller.userName),
          UserId: caller.userId,
          Account: this.accountId,
        }),
        null,
      );
    }
    if (!caller.admin || caller.deniedActions.has(action)) {
      return record(
        queryError(
          403,
          'AccessDenied',
          `User: ${this.#arn(caller.userName)} is not authorized to perform: iam:${action}`,
          xmlns,
        ),
        null,
      );
    }
    const userName = params.get('UserName') ?? undefined;
    switch (action) {
      case 'ListUsers':
        return record(this.#listUsers(params), null);
      case 'CreateAccessKey': {
        const target = userName ?? caller.userName;
        const answer = this.#createAccessKey(target);
        const created = answer.status === 200 ? [...(this.#keysByUser.get(target) ?? [])].pop() : undefined;
        const createdKey = created ? this.#keys.get(created) : undefined;
        // CloudTrail keeps the new key's id but never its secret.
        return record(
          answer,
          { userName: target },
          createdKey
            ? {
                accessKey: {
                  accessKeyId: createdKey.accessKeyId,
                  status: createdKey.status,
                  userName: target,
                  createDate: createdKey.createDate.toISOString(),
                },
              }
            : null,
        );
      }
      case 'ListAccessKeys':
        return record(this.#listAccessKeys(userName ?? caller.userName, params), {
          userName: userName ?? caller.userName,
        });
      case 'UpdateAccessKey':
        return record(
          this.#updateAccessKey(userName ?? caller.userName, params.get('AccessKeyId'), params.get('Status')),
          {
            userName: userName ?? caller.userName,
            accessKeyId: params.get('AccessKeyId'),
            status: params.get('Status'),
          },
        );
      case 'DeleteAccessKey':
        return record(this.#deleteAccessKey(userName ?? caller.userName, params.get('AccessKeyId')), {
          userName: userName ?? caller.userName,
          accessKeyId: params.get('AccessKeyId'),
        });
      case 'GenerateCredentialReport':
        return record(this.#generateCredentialReport(), null);
      case 'GetCredentialReport':
        return record(this.#getCredentialReport(), null);
      case 'GetAccountAuthorizationDetails':
        return record(this.#getAccountAuthorizationDetails(params), null);
      case 'ListAttachedUserPolicies':
        return record(this.#listAttachedUserPolicies(userName ?? caller.userName, params), {
          userName: userName ?? caller.userName,
        });
      case 'ListUserPolicies':
        return record(this.#listUserPolicies(userName ?? caller.userName, params), {
          userName: userName ?? caller.userName,
        });
      case 'GetAccessKeyLastUsed':
        return record(this.#getAccessKeyLastUsed(params.get('AccessKeyId')), {
          accessKeyId: params.get('AccessKeyId'),
        });
      default:
        return record(
          queryError(400, 'InvalidAction', `Could not find operation ${action} for version 2010-05-08`, xmlns),
          null,
        );
    }
  }

  #page<T>(items: T[], params: URLSearchParams): { page: T[]; marker?: string } {
    const start = Number(params.get('Marker') ?? '0') || 0;
    const size = Math.min(1000, Number(params.get('MaxItems') ?? PAGE_SIZE) || PAGE_SIZE);
    const page = items.slice(start, start + size);
    return start + size < items.length ? { page, marker: String(start + size) } : { page };
  }

  #listUsers(params: URLSearchParams): SandboxAnswer {
    const { page, marker } = this.#page([...this.#users.values()], params);
    return queryResponse('ListUsers', IAM_XMLNS, {
      Users: page.map((user) => ({
        Path: '/',
        UserName: user.userName,
        UserId: user.userId,
        Arn: this.#arn(user.userName),
        CreateDate: user.createDate,
      })),
      IsTruncated: marker !== undefined,
      Marker: marker,
    });
  }

  #noSuchUser(userName: string): SandboxAnswer {
    return queryError(404, 'NoSuchEntity', `The user with name ${userName} cannot be found.`, IAM_XMLNS);
  }

  #noSuchKey(accessKeyId: string | null): SandboxAnswer {
    return queryError(404, 'NoSuchEntity', `The Access Key with id ${accessKeyId ?? ''} cannot be found.`, IAM_XMLNS);
  }

  #createAccessKey(userName: string): SandboxAnswer {
    const keys = this.#keysByUser.get(userName);
    if (!keys) return this.#noSuchUser(userName);
    if (keys.length >= AWS_MAX_KEYS_PER_USER) {
      return queryError(
        409,
        'LimitExceeded',
        `Cannot exceed quota for AccessKeysPerUser: ${AWS_MAX_KEYS_PER_USER}`,
        IAM_XMLNS,
      );
    }
    const generated = generateAwsAccessKey(() => randomBytes(4).readUInt32BE() / 2 ** 32);
    const key: AwsKey = {
      ...generated,
      userName,
      status: 'Active',
      createDate: this.#clock(),
      visibleAt: Date.now() + this.#consistencyDelayMs,
    };
    this.#addKey(key);
    return queryResponse('CreateAccessKey', IAM_XMLNS, {
      AccessKey: {
        UserName: userName,
        AccessKeyId: key.accessKeyId,
        Status: key.status,
        SecretAccessKey: key.secretAccessKey,
        CreateDate: key.createDate,
      },
    });
  }

  #listAccessKeys(userName: string, params: URLSearchParams): SandboxAnswer {
    const ids = this.#keysByUser.get(userName);
    if (!ids) return this.#noSuchUser(userName);
    const { page, marker } = this.#page(ids, params);
    return queryResponse('ListAccessKeys', IAM_XMLNS, {
      UserName: userName,
      AccessKeyMetadata: page.map((id) => {
        const key = this.#keys.get(id)!;
        return { UserName: userName, AccessKeyId: id, Status: key.status, CreateDate: key.createDate };
      }),
      IsTruncated: marker !== undefined,
      Marker: marker,
    });
  }

  /** Users only (the sandbox has no groups, roles or customer policies), whatever `Filter.member.N` asks. */
  #getAccountAuthorizationDetails(params: URLSearchParams): SandboxAnswer {
    const filters = [...params.entries()].filter(([name]) => /^Filter\.member\.\d+$/.test(name)).map(([, v]) => v);
    const users = filters.length === 0 || filters.includes('User') ? [...this.#users.values()] : [];
    const { page, marker } = this.#page(users, params);
    return queryResponse('GetAccountAuthorizationDetails', IAM_XMLNS, {
      UserDetailList: page.map((user) => ({
        Path: '/',
        UserName: user.userName,
        UserId: user.userId,
        Arn: this.#arn(user.userName),
        CreateDate: user.createDate,
        // IAM sends policy documents URL-encoded; an inline policy here allows the action it is named after.
        UserPolicyList: [...user.inlinePolicies].map((name) => ({
          PolicyName: name,
          PolicyDocument: encodeURIComponent(
            JSON.stringify({
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: name.replace('-', ':'), Resource: '*' }],
            }),
          ),
        })),
        GroupList: [],
        AttachedManagedPolicies: [...user.attachedPolicies].map(awsManagedPolicy),
      })),
      GroupDetailList: [],
      RoleDetailList: [],
      Policies: [],
      IsTruncated: marker !== undefined,
      Marker: marker,
    });
  }

  #listAttachedUserPolicies(userName: string, params: URLSearchParams): SandboxAnswer {
    const user = this.#users.get(userName);
    if (!user) return this.#noSuchUser(userName);
    const { page, marker } = this.#page([...user.attachedPolicies], params);
    return queryResponse('ListAttachedUserPolicies', IAM_XMLNS, {
      AttachedPolicies: page.map(awsManagedPolicy),
      IsTruncated: marker !== undefined,
      Marker: marker,
    });
  }

  #listUserPolicies(userName: string, params: URLSearchParams): SandboxAnswer {
    const user = this.#users.get(userName);
    if (!user) return this.#noSuchUser(userName);
    const { page, marker } = this.#page([...user.inlinePolicies], params);
    return queryResponse('ListUserPolicies', IAM_XMLNS, {
      PolicyNames: page,
      IsTruncated: marker !== undefined,
      Marker: marker,
    });
  }

  #ownedKey(userName: string, accessKeyId: string | null): AwsKey | undefined {
    const key = accessKeyId ? this.#keys.get(accessKeyId) : undefined;
    return key && key.userName === userName ? key : undefined;
  }

  #updateAccessKey(userName: string, accessKeyId: string | null, status: string | null): SandboxAnswer {
    if (!this.#users.has(userName)) return this.#noSuchUser(userName);
    if (status !== 'Active' && status !== 'Inactive') {
      return queryError(
        400,
        'ValidationError',
        `Value '${status ?? ''}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`,
        IAM_XMLNS,
      );
    }
    const key = this.#ownedKey(userName, accessKeyId);
    if (!key) return this.#noSuchKey(accessKeyId);
    key.status = status;
    return queryResponse('UpdateAccessKey', IAM_XMLNS);
  }

  #deleteAccessKey(userName: string, accessKeyId: string | null): SandboxAnswer {
    if (!this.#users.has(userName)) return this.#noSuchUser(userName);
    const key = this.#ownedKey(userName, accessKeyId);
    if (!key) return this.#noSuchKey(accessKeyId);
    this.#keys.delete(key.accessKeyId);
    const ids = this.#keysByUser.get(userName)!;
    ids.splice(ids.indexOf(key.accessKeyId), 1);
    return queryResponse('DeleteAccessKey', IAM_XMLNS);
  }

  /**
   * GenerateCredentialReport: the first call starts a report (`STARTED`), later ones find it `COMPLETE`; IAM makes
   * a new one when the last is older than four hours. The sandbox builds it at once: GetCredentialReport before a
   * generation answers 410 ReportNotPresent, as IAM does.
   */
  #generateCredentialReport(): SandboxAnswer {
    const now = this.#clock();
    const fresh = this.#credentialReport && now.getTime() - this.#credentialReport.generated.getTime() < 4 * 3_600_000;
    if (!fresh) {
      const users = [...this.#users.values()].map((user) => ({
        userName: user.userName,
        arn: this.#arn(user.userName),
        createDate: user.createDate,
        keys: (this.#keysByUser.get(user.userName) ?? [])
          .map((id) => this.#keys.get(id)!)
          .sort((a, b) => a.createDate.getTime() - b.createDate.getTime())
          .map((key) => ({
            active: key.status === 'Active',
            createDate: key.createDate,
            ...(key.lastUsed ? { lastUsed: key.lastUsed } : {}),
          })),
      }));
      this.#credentialReport = { generated: now, csv: credentialReportCsv(this.accountId, this.#created, users) };
    }
    return queryResponse('GenerateCredentialReport', IAM_XMLNS, {
      State: fresh ? 'COMPLETE' : 'STARTED',
      Description: fresh ? 'Report is complete' : 'No report exists. Starting a new report generation task',
    });
  }

  #getCredentialReport(): SandboxAnswer {
    if (!this.#credentialReport)
      return queryError(
        410,
        'ReportNotPresent',
        'Credential report is not present. Please generate a report first.',
        IAM_XMLNS,
      );
    return queryResponse('GetCredentialReport', IAM_XMLNS, {
      Content: Buffer.from(this.#credentialReport.csv).toString('base64'),
      ReportFormat: 'text/csv',
      GeneratedTime: this.#credentialReport.generated,
    });
  }

  #getAccessKeyLastUsed(accessKeyId: string | null): SandboxAnswer {
    const key = accessKeyId ? this.#keys.get(accessKeyId) : undefined;
    if (!key) return this.#noSuchKey(accessKeyId);
    const lastUsed: XmlElement = key.lastUsed
      ? { LastUsedDate: key.lastUsed.date, ServiceName: key.lastUsed.service, Region: key.lastUsed.region }
      : { ServiceName: 'N/A', Region: 'N/A' };
    return queryResponse('GetAccessKeyLastUsed', IAM_XMLNS, { UserName: key.userName, AccessKeyLastUsed: lastUsed });
  }

  #record(
    request: SandboxRequest,
    service: string,
    action: string,
    key: AwsKey,
    caller: AwsUser,
    region: string,
    answer: SandboxAnswer,
    requestParameters: Record<string, unknown> | null,
    responseElements: Record<string, unknown> | null,
  ): void {
    const failed = answer.status >= 400;
    const errorCode = failed ? /<Code>([^<]+)<\/Code>/.exec(String(answer.body))?.[1] : undefined;
    const errorMessage = failed ? /<Message>([^<]+)<\/Message>/.exec(String(answer.body))?.[1] : undefined;
    this.#trail.push({
      eventVersion: '1.08',
      userIdentity: {
        type: 'IAMUser',
        principalId: caller.userId,
        arn: this.#arn(caller.userName),
        accountId: this.accountId,
        accessKeyId: key.accessKeyId,
        userName: caller.userName,
      },
      eventTime: this.#clock()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
      eventSource: `${service}.amazonaws.com`,
      eventName: action,
      awsRegion: region,
      sourceIPAddress: request.remoteAddress.replace(/^::ffff:/, ''),
      userAgent: String(request.headers['user-agent'] ?? ''),
      requestParameters,
      responseElements: failed ? null : responseElements,
      ...(errorCode ? { errorCode } : {}),
      ...(errorMessage ? { errorMessage } : {}),
      requestID: answer.headers?.['x-amzn-requestid'] ?? randomUUID(),
      eventID: randomUUID(),
      readOnly: action.startsWith('List') || action.startsWith('Get'),
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: this.accountId,
    });
  }
}

/** An AWS managed policy as IAM names it in a user's attached policies: its name and its `arn:aws:iam::aws:policy/` ARN. */
function awsManagedPolicy(name: string): { PolicyName: string; PolicyArn: string } {
  return { PolicyName: name, PolicyArn: `arn:aws:iam::aws:policy/${name}` };
}
