// The AWS IAM adapter against the AWS sandbox: the shared contract, then what is AWS's own — SigV4 checked by
// the sandbox, eventual consistency on a fresh key, revoke as Inactive-then-delete, and CloudTrail records.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sleep } from '../../runtime/retry-policy.js';
import { withStepDeadline } from '../../runtime/step-deadline.js';
import type { AwsIamSandbox, CloudTrailRecord } from '../../sandbox/providers/aws-iam/aws-iam-sandbox.js';
import { describeProviderContract } from '../test-support/provider-contract.js';
import { startProviderSandbox } from '../test-support/provider-sandbox.js';
import { AwsIamProvider } from './aws-iam-provider.js';
import type { AwsIamOptionsInput } from './aws-iam-schemas.js';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

async function startAws(options: { consistencyDelayMs?: number } = {}) {
  const aws = await startProviderSandbox<AwsIamSandbox, AwsIamProvider>({
    name: 'aws-iam',
    adapter: (adapterOptions, context) => new AwsIamProvider(adapterOptions, context),
    consistencyDelayMs: options.consistencyDelayMs ?? 0,
    adapterOptions: { consistencyTimeoutMs: 2_000 },
  });
  const freshUser = async () => {
    const userName = `contract-${randomBytes(4).toString('hex')}`;
    await aws.control.call('POST', 'users', { userName });
    return userName;
  };
  return {
    ...aws,
    make: (overrides: Partial<AwsIamOptionsInput> = {}, sleep?: Sleep) => aws.make(overrides, sleep),
    freshUser,
  };
}

describeProviderContract('aws-iam', async () => {
  const aws = await startAws();
  const provider = aws.make();
  return {
    provider,
    sandbox: aws.control,
    sleeps: aws.sleeps,
    createRequest: async () => ({ name: 'contract', account: await aws.freshUser() }),
    unknownSecret: () => ({
      secret: `CANARY${randomBytes(17).toString('hex')}`,
      ref: { providerKeyId: 'AKIAQQQQQQQQQQQQQQQQ' },
    }),
    providerWithBadCredentials: () =>
      aws.make({ credentials: { accessKeyId: 'AKIAZZZZZZZZZZZZZZZZ', secretAccessKey: 'x'.repeat(40) } }),
    adapterSecret: aws.sandbox.admin.secretAccessKey,
    operations: { list: 'iam:ListUsers', verify: 'sts:GetCallerIdentity', create: 'iam:CreateAccessKey' },
    limit: {
      request: async () => ({ name: 'limit', account: await aws.freshUser() }),
      keysAllowed: 2,
      providerCode: 'LimitExceeded',
    },
    close: aws.close,
  };
});

describe('AWS IAM adapter specifics', () => {
  let aws: Awaited<ReturnType<typeof startAws>>;
  beforeAll(async () => {
    aws = await startAws({ consistencyDelayMs: 300 });
  });
  afterAll(async () => {
    await aws.close();
  });

  it('waits out IAM eventual consistency when verifying a key it just created', async () => {
    const provider = aws.make({}, (ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    const created = await provider.create({ name: 'fresh', account: await aws.freshUser() });
    expect(created.providerKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(created.secret.length).toBe(40);
    const result = await provider.verify(created.secret, created);
    expect(result).toMatchObject({ valid: true, providerKeyId: created.providerKeyId });
    expect(result.identity).toMatch(/^arn:aws:iam::\d{12}:user\/contract-/);
    const counts = await aws.control.requestCounts();
    expect(counts['sts:GetCallerIdentity']).toBeGreaterThan(1);
  });

  it('reports a fresh key invalid once the consistency window is over', async () => {
    const provider = aws.make({ consistencyTimeoutMs: 0 });
    const created = await provider.create({ name: 'fresh', account: await aws.freshUser() });
    const result = await provider.verify(created.secret, created);
    expect(result.valid).toBe(false);
    expect(result.reason).toMatch(/security token included in the request is invalid/);
  });

  it('accepts a secret written as `AKIA...:secret` when no ref is given', async () => {
    await aws.control.call('PUT', 'consistency-delay', { ms: 0 });
    const provider = aws.make();
    const created = await provider.create({ name: 'joined', account: await aws.freshUser() });
    const { SecretValue } = await import('../../secrets/secret-value.js');
    const joined = new SecretValue(`${created.providerKeyId}:${created.secret.reveal()}`);
    expect((await provider.verify(joined)).valid).toBe(true);
  });

  it('revokes by setting the key Inactive, then deleting it, and CloudTrail names every key that called', async () => {
    await aws.control.call('PUT', 'consistency-delay', { ms: 0 });
    const provider = aws.make();
    const user = await aws.freshUser();
    const created = await provider.create({ name: 'to-revoke', account: user });
    await provider.verify(created.secret, created);
    await provider.revoke({ providerKeyId: created.providerKeyId });
    const { Records } = await aws.control.auditLog<{ Records: CloudTrailRecord[] }>();
    const names = Records.filter((r) => r.requestParameters?.accessKeyId === created.providerKeyId).map(
      (r) => r.eventName,
    );
    expect(names).toEqual(expect.arrayContaining(['UpdateAccessKey', 'DeleteAccessKey']));
    expect(names.indexOf('UpdateAccessKey')).toBeLessThan(names.indexOf('DeleteAccessKey'));
    const verifyRecord = Records.find(
      (r) => r.eventName === 'GetCallerIdentity' && r.userIdentity.accessKeyId === created.providerKeyId,
    );
    expect(verifyRecord).toMatchObject({
      eventSource: 'sts.amazonaws.com',
      userIdentity: { type: 'IAMUser', userName: user },
    });
    expect(JSON.stringify(Records)).not.toContain(created.secret.reveal());
  });

  it('verifies a key without credentials of its own; IAM calls need them', async () => {
    await aws.control.call('PUT', 'consistency-delay', { ms: 0 });
    const created = await aws.make().create({ name: 'leaked', account: await aws.freshUser() });
    const bare = aws.make({ credentials: undefined });
    expect((await bare.verify(created.secret, created)).valid).toBe(true);
    await expect(bare.lastUsed(created)).rejects.toMatchObject({
      code: 'E_PROVIDER_AUTH',
      message: expect.stringContaining('`credentials`'),
    });
  });

  it('lists every user’s keys when no account is given', async () => {
    const provider = aws.make();
    const keys = [];
    for await (const key of provider.list()) keys.push(key);
    expect(keys.some((key) => key.account === aws.sandbox.admin.userName)).toBe(true);
  });

  it("lists each key with its user's attached and inline policy names, read once per user", async () => {
    await aws.control.call('PUT', 'consistency-delay', { ms: 0 });
    const provider = aws.make();
    const admin = `policies-${randomBytes(4).toString('hex')}`;
    const reader = `policies-${randomBytes(4).toString('hex')}`;
    const bare = await aws.freshUser();
    await aws.control.call('POST', 'users', { userName: admin, policies: ['AdministratorAccess'] });
    await aws.control.call('POST', 'users', { userName: reader, policies: ['s3:GetObject', 'sqs:SendMessage'] });
    const first = await provider.create({ name: 'admin-1', account: admin });
    const second = await provider.create({ name: 'admin-2', account: admin });
    const readerKey = await provider.create({ name: 'reader', account: reader });
    const bareKey = await provider.create({ name: 'bare', account: bare });
    const count = async (operation: string) => (await aws.control.requestCounts())[operation] ?? 0;
    const attachedBefore = await count('iam:ListAttachedUserPolicies');
    const inlineBefore = await count('iam:ListUserPolicies');
    const keys = new Map<string, string[] | undefined>();
    for (const user of [admin, reader, bare])
      for await (const key of provider.list({ account: user })) keys.set(key.providerKeyId, key.permissions);
    expect(keys.get(first.providerKeyId)).toEqual(['AdministratorAccess']);
    expect(keys.get(second.providerKeyId)).toEqual(['AdministratorAccess']);
    // Inline policy names allow no colon: the sandbox names an action's policy `s3-GetObject` (userPoliciesOf).
    expect(keys.get(readerKey.providerKeyId)).toEqual(['s3-GetObject', 'sqs-SendMessage']);
    // Read and found none: an empty list, not an absent one.
    expect(keys.get(bareKey.providerKeyId)).toEqual([]);
    // One read of each kind per user, not per key: the admin user's two keys share it.
    expect((await count('iam:ListAttachedUserPolicies')) - attachedBefore).toBe(3);
    expect((await count('iam:ListUserPolicies')) - inlineBefore).toBe(3);
  });

  it('pages through a user’s policies by Marker', async () => {
    await aws.control.call('PUT', 'consistency-delay', { ms: 0 });
    const provider = aws.make();
    const user = `paged-${randomBytes(4).toString('hex')}`;
    const actions = Array.from({ length: 150 }, (_, i) => `s3:Action${String(i).padStart(3, '0')}`);
    await aws.control.call('POST', 'users', { userName: user, policies: ['AdministratorAccess', ...actions] });
    await provider.create({ name: 'paged', account: user });
    const [key] = await collect(provider.list({ account: user }));
    expect(key?.permissions).toEqual(['AdministratorAccess', ...actions.map((a) => a.replace(':', '-'))]);
  });

  it('reads every user’s policies with one GetAccountAuthorizationDetails when listing the whole account', async () => {
    await aws.control.call('PUT', 'consistency-delay', { ms: 0 });
    const provider = aws.make();
    const admin = `whole-${randomBytes(4).toString('hex')}`;
    const reader = `whole-${randomBytes(4).toString('hex')}`;
    await aws.control.call('POST', 'users', { userName: admin, policies: ['AdministratorAccess'] });
    await aws.control.call('POST', 'users', { userName: reader, policies: ['dynamodb:Query'] });
    const adminKey = await provider.create({ name: 'admin', account: admin });
    const readerKey = await provider.create({ name: 'reader', account: reader });
    const count = async (operation: string) => (await aws.control.requestCounts())[operation] ?? 0;
    const before = {
      details: await count('iam:GetAccountAuthorizationDetails'),
      attached: await count('iam:ListAttachedUserPolicies'),
      inline: await count('iam:ListUserPolicies'),
    };
    const keys = await collect(provider.list());
    expect(keys.find((key) => key.providerKeyId === adminKey.providerKeyId)?.permissions).toEqual([
      'AdministratorAccess',
    ]);
    expect(keys.find((key) => key.providerKeyId === readerKey.providerKeyId)?.permissions).toEqual(['dynamodb-Query']);
    expect(keys.every((key) => Array.isArray(key.permissions))).toBe(true);
    expect((await count('iam:GetAccountAuthorizationDetails')) - before.details).toBe(1);
    expect((await count('iam:ListAttachedUserPolicies')) - before.attached).toBe(0);
    expect((await count('iam:ListUserPolicies')) - before.inline).toBe(0);
  });

  it('reads users one by one when GetAccountAuthorizationDetails is refused', async () => {
    await aws.control.call('PUT', 'consistency-delay', { ms: 0 });
    const admin = aws.make();
    const lister = `lister-${randomBytes(4).toString('hex')}`;
    await aws.control.call('POST', 'users', {
      userName: lister,
      admin: true,
      deniedActions: ['GetAccountAuthorizationDetails'],
    });
    const credential = await admin.create({ name: 'lister', account: lister });
    const target = `target-${randomBytes(4).toString('hex')}`;
    await aws.control.call('POST', 'users', { userName: target, policies: ['AdministratorAccess'] });
    const targetKey = await admin.create({ name: 'target', account: target });
    const provider = aws.make({
      credentials: { accessKeyId: credential.providerKeyId, secretAccessKey: credential.secret.reveal() },
    });
    const keys = await collect(provider.list());
    expect(keys.find((key) => key.providerKeyId === targetKey.providerKeyId)?.permissions).toEqual([
      'AdministratorAccess',
    ]);
    expect(keys.every((key) => Array.isArray(key.permissions))).toBe(true);
  });

  it('lists keys without permissions when IAM refuses the policy reads, and stops asking after the refusal', async () => {
    await aws.control.call('PUT', 'consistency-delay', { ms: 0 });
    const admin = aws.make();
    // An auditor's user: may list users and keys, but a deny statement keeps the user policies from it.
    const auditor = `auditor-${randomBytes(4).toString('hex')}`;
    await aws.control.call('POST', 'users', {
      userName: auditor,
      admin: true,
      deniedActions: ['GetAccountAuthorizationDetails', 'ListAttachedUserPolicies', 'ListUserPolicies'],
    });
    const credential = await admin.create({ name: 'auditor', account: auditor });
    const users = [await aws.freshUser(), await aws.freshUser()];
    for (const user of users) await admin.create({ name: 'listed', account: user });
    const provider = aws.make({
      credentials: { accessKeyId: credential.providerKeyId, secretAccessKey: credential.secret.reveal() },
    });
    const count = async (operation: string) => (await aws.control.requestCounts())[operation] ?? 0;
    const deniedBefore = await count('iam:ListAttachedUserPolicies');
    const keys = await collect(provider.list());
    for (const user of users) {
      const listed = keys.filter((key) => key.account === user);
      expect(listed).toHaveLength(1);
      expect(listed[0]).not.toHaveProperty('permissions');
    }
    expect(keys.every((key) => key.permissions === undefined)).toBe(true);
    // One refused call of each kind for the whole listing (AccessDenied is not retried), not one per user.
    expect((await count('iam:ListAttachedUserPolicies')) - deniedBefore).toBe(1);
    const { Records } = await aws.control.auditLog<{ Records: CloudTrailRecord[] }>();
    for (const action of ['GetAccountAuthorizationDetails', 'ListAttachedUserPolicies'])
      expect(Records.filter((r) => r.eventName === action && r.userIdentity.userName === auditor)).toEqual([
        expect.objectContaining({ errorCode: 'AccessDenied' }),
      ]);
  });

  it('honours a lease holder’s step deadline: a held request is aborted at it and not retried; none leaves after it', async () => {
    await aws.control.call('PUT', 'consistency-delay', { ms: 0 });
    // A timeout far beyond the deadline, so only the deadline can end the wait.
    const provider = aws.make({ timeoutMs: 10_000 });
    const user = await aws.freshUser();
    const count = async (operation: string) => (await aws.control.requestCounts())[operation] ?? 0;
    const listsBefore = await count('iam:ListAccessKeys');
    // The sandbox holds the request 1.5 s, then drops the connection (a retryable failure, were it waited for).
    await aws.control.addFault({ operation: 'iam:ListAccessKeys', kind: 'timeout', delayMs: 1_500 });
    const started = Date.now();
    const error = await withStepDeadline(AbortSignal.timeout(200), async () => {
      for await (const _key of provider.list({ account: user })) break;
    }).catch((caught: unknown) => caught);
    const waited = Date.now() - started;
    expect(error).toMatchObject({
      code: 'E_PROVIDER_TIMEOUT',
      providerCode: 'STEP_DEADLINE',
      retryable: false,
      message: expect.stringContaining("step's deadline"),
    });
    expect(waited).toBeLessThan(1_000);
    // Past the hold: the given-up call sent no retry.
    await new Promise((resolve) => setTimeout(resolve, 1_800 - waited));
    expect((await count('iam:ListAccessKeys')) - listsBefore).toBe(1);
    // Under a deadline already passed, a create leaves nothing: no request, no key.
    const createsBefore = await count('iam:CreateAccessKey');
    const passed = AbortSignal.abort();
    await expect(
      withStepDeadline(passed, () => provider.create({ name: 'late', account: user })),
    ).rejects.toMatchObject({
      providerCode: 'STEP_DEADLINE',
    });
    expect(await count('iam:CreateAccessKey')).toBe(createsBefore);
    const keys = [];
    for await (const key of provider.list({ account: user })) keys.push(key);
    expect(keys).toEqual([]);
  });
});
