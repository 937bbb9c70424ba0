// Rotation against the provider sandboxes (real HTTP, SigV4, the providers' own errors): AWS IAM end to end, its
// two-keys-per-user limit, 429 storms and 5xx bursts that are backed off without minting twice, and the scheduler
// holding each provider to its request budget.
import { CreateAccessKeyCommand, IAMClient, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestBackend } from '../../db/test-support/test-databases.js';
import type { Provider } from '../../providers/provider.js';
import { createProvider } from '../../providers/provider-table.js';
import { systemClock } from '../../runtime/clock.js';
import { SandboxControlClient } from '../../sandbox/sandbox-control-client.js';
import { type RunningSandbox, startSandbox } from '../../sandbox/start-sandbox.js';
import { RotationScheduler } from './rotation-scheduler.js';
import { createRotationWorld, type RotationWorld } from './test-support/rotation-fixture.js';

const backend = createTestBackend('sqlite');
let sandbox: RunningSandbox;
let aws: Provider;
let awsControl: SandboxControlClient;
let world: RotationWorld;
let users = 0;

beforeAll(async () => {
  sandbox = await startSandbox({ org: 'none', providers: ['aws-iam'], rateLimits: 'off' });
  awsControl = new SandboxControlClient(sandbox.urls['aws-iam']!);
  aws = createProvider(
    'aws-iam',
    { ...sandbox.providerOptions('aws-iam'), retry: { baseDelayMs: 5, maxDelayMs: 50 }, rateLimit: 'off' },
    { clock: systemClock },
  );
  world = await createRotationWorld({ operational: await backend.open(), extraProviders: { 'aws-iam': aws } });
});

afterAll(async () => {
  await world?.stop();
  await sandbox?.stop();
  await backend.cleanup();
});

beforeEach(async () => {
  await awsControl.clearFaults();
});

/** An IAM user with one key, registered as a keyledger entry whose consumer is the sandbox consumer. */
async function awsKey(): Promise<{ keyId: string; user: string }> {
  const user = `svc-${++users}`;
  await awsControl.call('POST', 'users', { userName: user });
  const keyId = `aws-${user}`;
  await world.issuer.issue({
    provider: 'aws-iam',
    team: 'platform',
    owner: 'bob@example.com',
    purpose: 'deploys',
    permissions: [],
    account: user,
    keyId,
    store: { name: 'default', path: `aws/${keyId}` },
    consumers: [{ service: user, probe: { kind: 'grace', seconds: 0 } }],
    actor: 'test',
  });
  await world.consumer.add({ keyId, store: world.store, path: `aws/${keyId}`, provider: aws, account: user });
  return { keyId, user };
}

async function liveKeys(user: string): Promise<Array<{ id: string; status: string }>> {
  const keys = [];
  for await (const key of aws.list({ account: user })) keys.push({ id: key.providerKeyId, status: key.status });
  return keys;
}

/**
 * Resolves once every call the sandbox consumer has in flight now has ended. Its background loop calls one key at a
 * time, so the next call it starts means the one before has finished (and counted its outcome).
 */
async function consumerCallsSettled(): Promise<void> {
  const started = world.consumer.stats().calls;
  const deadline = Date.now() + 30_000;
  while (world.consumer.stats().calls === started) {
    if (Date.now() > deadline) throw new Error('the sandbox consumer started no call within 30s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function adminIam(): IAMClient {
  const options = sandbox.providerOptions('aws-iam') as {
    baseUrl: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  return new IAMClient({
    endpoint: options.baseUrl,
    region: 'us-east-1',
    credentials: options.credentials,
    maxAttempts: 1,
  });
}

describe('AWS IAM', () => {
  it('rotates end to end: STS accepts the new key, the old one is deleted, one key left', async () => {
    const { keyId, user } = await awsKey();
    const before = (await world.writer.read(keyId))!.entry.provider_key_id;
    const outcome = await world.rotator().rotate(keyId, 'schedule');
    expect(outcome.status).toBe('done');
    const after = (await world.writer.read(keyId))!.entry.provider_key_id;
    expect(after).toMatch(/^AKIA/);
    expect(await liveKeys(user)).toEqual([{ id: after, status: 'active' }]);
    expect(after).not.toBe(before);
    await world.consumer.callAll();
    expect(world.consumer.stats().failures).toBe(0);
  });

  it('two live keys already (the limit): the preflight refuses, nothing minted or journalled, the old key stays current', async () => {
    const { keyId, user } = await awsKey();
    const iam = adminIam();
    const extra = await iam.send(new CreateAccessKeyCommand({ UserName: user }));
    await expect(world.rotator().rotate(keyId, 'schedule')).rejects.toMatchObject({
      code: 'E_PREFLIGHT_FAILED',
      message: expect.stringContaining(`already holds 2 live keys (limit 2): delete ${extra.AccessKey!.AccessKeyId}`),
    });
    expect(await world.journal.list({ keyId })).toEqual([]);
    expect((await liveKeys(user)).length).toBe(2);
    const current = await world.store.get(`aws/${keyId}`, 'current');
    expect(
      (await aws.verify(current!.value, { providerKeyId: current!.metadata.provider_key_id!, account: user })).valid,
    ).toBe(true);

    // An inactive spare is deleted first to make room, and the rotation goes through.
    await iam.send(
      new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: extra.AccessKey!.AccessKeyId!, Status: 'Inactive' }),
    );
    const again = await world.rotator().rotate(keyId, 'schedule');
    expect(again.status).toBe('done');
    const live = await liveKeys(user);
    expect(live).toEqual([{ id: (await world.writer.read(keyId))!.entry.provider_key_id, status: 'active' }]);
    expect((await world.events.list({ type: 'rotation.inactive_key_deleted', keyId })).length).toBe(1);
    iam.destroy();
  });

  it('a 429 storm on CreateAccessKey is backed off (Retry-After honoured) and the key is minted exactly once', async () => {
    const { keyId, user } = await awsKey();
    const before = (await awsControl.requestCounts())['iam:CreateAccessKey'] ?? 0;
    // More 429s than the adapter retries: the rotation itself must wait and come back.
    await awsControl.addFault({
      operation: 'iam:CreateAccessKey',
      kind: 'rate-limit',
      status: 429,
      retryAfterSeconds: 0,
      times: 7,
    });
    const started = Date.now();
    const outcome = await world.rotator().rotate(keyId, 'schedule');
    expect(outcome.status).toBe('done');
    expect((await awsControl.requestCounts())['iam:CreateAccessKey']! - before).toBe(8);
    expect((await liveKeys(user)).length).toBe(1);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a 5xx burst on verify and on delete is retried; nothing is rolled back after promotion', async () => {
    const { keyId, user } = await awsKey();
    await awsControl.addFault([
      { operation: 'sts:GetCallerIdentity', kind: 'status', status: 503, times: 3 },
      { operation: 'iam:DeleteAccessKey', kind: 'status', status: 500, times: 7 },
    ]);
    const outcome = await world.rotator().rotate(keyId, 'schedule');
    expect(outcome.status).toBe('done');
    expect((await liveKeys(user)).map((key) => key.status)).toEqual(['active']);
  });

  it('a 5xx that never ends before promotion rolls back and leaves the old key working', async () => {
    const { keyId, user } = await awsKey();
    const old = (await world.writer.read(keyId))!.entry.provider_key_id;
    await awsControl.addFault({ operation: 'sts:GetCallerIdentity', kind: 'status', status: 503, times: -1 });
    const outcome = await world.rotator({ options: { maxAttempts: 2 } }).rotate(keyId, 'schedule');
    await awsControl.clearFaults();
    expect(outcome.status).toBe('rolled-back');
    // The new key is revoked (made Inactive, then deleted); no active key but the old one remains.
    expect((await liveKeys(user)).filter((key) => key.status === 'active')).toEqual([{ id: old, status: 'active' }]);
    // While STS was down nobody's calls worked (an outage, not the rotation); once it is back, the old key does.
    // Counted once the consumer's calls begun during the outage have ended: such a call records its failure only
    // when it ends, which may be after the faults were cleared.
    await consumerCallsSettled();
    const failuresDuringOutage = world.consumer.stats().failures;
    await world.consumer.callAll();
    expect(world.consumer.stats().failures).toBe(failuresDuringOutage);
  });
});

describe('AWS IAM: a step held past its deadline', () => {
  it('a delete held by IAM is given up at the step deadline, the step retried, and the held call never retried behind it', async () => {
    const { keyId, user } = await awsKey();
    const count = async () => (await awsControl.requestCounts())['iam:DeleteAccessKey'] ?? 0;
    const before = await count();
    // IAM holds the first DeleteAccessKey 2 s and drops it; the step's deadline (0.4 s) comes first, and the step's
    // retry deletes the key well before the hold ends.
    await awsControl.addFault({ operation: 'iam:DeleteAccessKey', kind: 'timeout', delayMs: 2_000 });
    const outcome = await world.rotator({ options: { stepTimeoutMs: 400 } }).rotate(keyId, 'schedule');
    expect(outcome.status).toBe('done');
    expect((await liveKeys(user)).map((key) => key.status)).toEqual(['active']);
    // Past the hold: the held call (aborted at the deadline, STEP_DEADLINE, not retryable) sent nothing more; the
    // step's retry sent one — as with the REST adapters' HTTP client.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await count()) - before).toBe(2);
  });
});

describe('scheduler', () => {
  it('holds each provider to its budget: 12 AWS rotations at 40 requests/s take at least calls/rate', async () => {
    const keys = [];
    for (let index = 0; index < 12; index++) keys.push(await awsKey());
    const limited = createProvider(
      'aws-iam',
      {
        ...sandbox.providerOptions('aws-iam'),
        retry: { baseDelayMs: 5, maxDelayMs: 50 },
        rateLimit: { requests: 40, perSeconds: 1 },
      },
      { clock: systemClock },
    );
    await new SandboxControlClient(sandbox.urls['aws-iam']!).setRateLimit({ requests: 40, perSeconds: 1 });
    const rotator = world.rotator({ providers: (name) => (name === 'aws-iam' ? limited : world.providers(name)) });
    const scheduler = new RotationScheduler({
      rotator,
      providers: (name) => (name === 'aws-iam' ? limited : world.providers(name)),
      clock: systemClock,
    });
    const due = await world.dueNow(keys.map(({ keyId }) => keyId));
    const report = await scheduler.run(due);
    await awsControl.setRateLimit(null);
    expect(report).toMatchObject({ done: 12, rolledBack: 0, failed: 0, deferred: 0 });
    // 6 calls a rotation (list, create, verify, update, delete + the adapter's own) at 40/s: the bound is 12*5/40 s.
    expect(report.seconds).toBeGreaterThan((12 * 5) / 40 - 0.5);
    for (const { user } of keys) expect((await liveKeys(user)).length).toBe(1);
    // Most of the time goes to git, not to the providers: 12 issues and 12 rotations each commit to the registry,
    // one at a time under its lock, and a commit takes 2-4 s on a saturated 2-core machine (runs of 85 s seen).
  }, 180_000);
});
