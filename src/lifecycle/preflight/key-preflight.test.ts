// The preflight on both engines, against the embedded store, the internal provider and the AWS IAM sandbox: a
// healthy key passes and nothing is written; every problem (store missing or down, provider missing or refusing,
// no room for a key, a consumer that cannot be asked) is named with its config key; and `issue` refused by it has
// minted, stored, registered and logged nothing.
import { CreateAccessKeyCommand, IAMClient, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { forEachBackend, type TestBackend } from '../../db/test-support/test-databases.js';
import { ConfigError } from '../../errors/keyledger-error.js';
import type { Provider } from '../../providers/provider.js';
import { createProvider } from '../../providers/provider-table.js';
import { defaultRegistryConfig } from '../../registry/registry-config.js';
import { systemClock } from '../../runtime/clock.js';
import { SandboxControlClient } from '../../sandbox/sandbox-control-client.js';
import { type RunningSandbox, startSandbox } from '../../sandbox/start-sandbox.js';
import { writeProbePath } from '../../secrets/secret-store-probe.js';
import { IdempotencyRecords } from '../idempotency-records.js';
import { KeyIssuer } from '../key-issuance.js';
import { createConsumerConfirmers } from '../rotation/consumers/consumer-confirmer-table.js';
import { FaultySecretStore } from '../rotation/test-support/faulty-secret-store.js';
import { createRotationWorld, type RotationWorld } from '../rotation/test-support/rotation-fixture.js';
import { KeyPreflight, PreflightError, type PreflightTarget } from './key-preflight.js';

let sandbox: RunningSandbox;
let aws: Provider;
let awsControl: SandboxControlClient;
let users = 0;
const worlds: RotationWorld[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ org: 'none', providers: ['aws-iam'], rateLimits: 'off' });
  awsControl = new SandboxControlClient(sandbox.urls['aws-iam']!);
  aws = createProvider(
    'aws-iam',
    { ...sandbox.providerOptions('aws-iam'), retry: { baseDelayMs: 5, maxDelayMs: 50 }, rateLimit: 'off' },
    { clock: systemClock },
  );
});
afterAll(async () => {
  await sandbox?.stop();
});
beforeEach(async () => {
  await awsControl.clearFaults();
});
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((world) => world.stop()));
});

async function world(backend: TestBackend): Promise<RotationWorld> {
  const created = await createRotationWorld({
    operational: await backend.open(),
    keys: 1,
    extraProviders: { 'aws-iam': aws },
  });
  worlds.push(created);
  return created;
}

function preflightOf(w: RotationWorld, overrides: Partial<ConstructorParameters<typeof KeyPreflight>[0]> = {}) {
  return new KeyPreflight({
    providers: w.providers,
    stores: () => w.store,
    confirmers: createConsumerConfirmers({ clock: systemClock, env: {} }),
    clock: systemClock,
    ...overrides,
  });
}

/** The target a rotation of the world's first key checks. */
async function rotationTarget(w: RotationWorld): Promise<PreflightTarget> {
  const keyId = w.keyIds[0]!;
  const entry = (await w.writer.read(keyId))!.entry;
  return {
    keyId,
    provider: 'internal',
    account: 'svc-0',
    store: 'default',
    path: `team/${keyId}`,
    currentProviderKeyId: entry.provider_key_id!,
    consumers: [
      { name: 'svc-0', kind: 'http', settings: { ...w.consumer.probeFor(keyId) }, consumer: { service: 'svc-0' } },
    ],
  };
}

async function problemsOf(check: Promise<void>) {
  const error = await check.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(PreflightError);
  expect(error).toMatchObject({ code: 'E_PREFLIGHT_FAILED', category: 'config' });
  return (error as PreflightError).problems;
}

async function liveKeys(provider: Provider, account: string): Promise<string[]> {
  const live: string[] = [];
  for await (const key of provider.list({ account }))
    if (key.status !== 'revoked' && key.status !== 'expired') live.push(key.providerKeyId);
  return live;
}

forEachBackend((backend) => {
  it('passes for a healthy key and leaves nothing behind', async () => {
    const w = await world(backend);
    const target = await rotationTarget(w);
    const before = await liveKeys(w.provider, 'svc-0');
    await preflightOf(w).check(target, 'rotate');
    expect(await liveKeys(w.provider, 'svc-0')).toEqual(before);
    expect(await w.store.versions(writeProbePath(target.path))).toEqual([]);
    expect((await w.store.versions(target.path)).length).toBe(1);
    expect(await w.journal.list()).toEqual([]);
  });

  it('names every problem with the config key to set: store and provider not configured, a consumer not answering', async () => {
    const w = await world(backend);
    const target = await rotationTarget(w);
    const problems = await problemsOf(
      preflightOf(w, {
        stores: (name) => {
          throw new ConfigError(
            `secret store "${name}" is not configured: add it under \`stores.${name}\` in keyledger.config.yaml`,
            { code: 'E_SECRET_STORE_CONFIG' },
          );
        },
        providers: (name) => {
          throw new ConfigError(
            `provider "${name}" is not configured: add its options under \`providers.${name}\` in keyledger.config.yaml`,
          );
        },
      }).check(
        {
          ...target,
          store: 'vault',
          consumers: [
            ...target.consumers,
            { name: 'gone', kind: 'http', settings: { url: 'http://127.0.0.1:9/version' }, consumer: 'gone' },
            { name: 'cron', kind: 'grace', settings: { seconds: 60 }, consumer: 'cron' },
            { name: 'odd', kind: 'carrier-pigeon', settings: {}, consumer: 'odd' },
          ],
        },
        'rotate',
      ),
    );
    expect(problems.map(({ check, configKey }) => [check, configKey])).toEqual([
      ['store', 'stores.vault'],
      ['provider', 'providers.internal'],
      ['consumer', 'consumed_by'],
      ['consumer', 'consumed_by'],
    ]);
    expect(problems[0]!.message).toContain('`stores.vault` in keyledger.config.yaml');
    expect(problems.map((problem) => problem.message).join('\n')).toMatch(/consumer gone cannot be asked[^\n]*grace/);
    expect(problems.map((problem) => problem.message).join('\n')).toContain('unknown probe kind "carrier-pigeon"');
  });

  it('a store that cannot be written is refused, naming its config key; a passing store is not probed again at once', async () => {
    const w = await world(backend);
    const target = await rotationTarget(w);
    const store = new FaultySecretStore(w.store);
    store.down = true;
    const preflight = preflightOf(w, { stores: () => store });
    const [problem] = await problemsOf(preflight.check(target, 'rotate'));
    expect(problem).toMatchObject({ check: 'store', configKey: 'stores.default' });
    expect(problem!.message).toContain('cannot be written at team/');
    store.down = false;
    await preflight.check(target, 'rotate');
    store.down = true; // within the cache window: the store passed a moment ago
    await preflight.check(target, 'rotate');
  });

  it('AWS: refused credentials, and a user at the two-key limit (an inactive spare is room for a rotation only)', async () => {
    const w = await world(backend);
    const user = `svc-preflight-${process.pid}-${++users}`;
    await awsControl.call('POST', 'users', { userName: user });
    const target: PreflightTarget = {
      keyId: `aws-${user}`,
      provider: 'aws-iam',
      account: user,
      store: 'default',
      path: `aws/${user}`,
      consumers: [],
    };
    await preflightOf(w).check(target, 'issue');

    await awsControl.addFault({ operation: 'iam:ListAccessKeys', kind: 'status', status: 403, times: -1 });
    const [refused] = await problemsOf(preflightOf(w).check(target, 'issue'));
    expect(refused).toMatchObject({ check: 'provider', configKey: 'providers.aws-iam' });
    await awsControl.clearFaults();

    const options = sandbox.providerOptions('aws-iam') as {
      baseUrl: string;
      credentials: { accessKeyId: string; secretAccessKey: string };
    };
    const iam = new IAMClient({ endpoint: options.baseUrl, region: 'us-east-1', credentials: options.credentials });
    const current = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!.AccessKeyId!;
    const extra = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!.AccessKeyId!;
    const [full] = await problemsOf(preflightOf(w).check({ ...target, currentProviderKeyId: current }, 'rotate'));
    expect(full).toMatchObject({ check: 'room', configKey: 'scope.account_id' });
    expect(full!.message).toContain(`already holds 2 live keys (limit 2): delete ${extra}`);
    await iam.send(new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: extra, Status: 'Inactive' }));
    await preflightOf(w).check({ ...target, currentProviderKeyId: current }, 'rotate');
    const [noRoom] = await problemsOf(preflightOf(w).check(target, 'issue'));
    expect(noRoom).toMatchObject({ check: 'room' });
    iam.destroy();
  });

  it('issue refused by the preflight has minted, stored, registered and logged nothing', async () => {
    const w = await world(backend);
    const issuer = new KeyIssuer({
      providers: w.providers,
      stores: (name) => {
        if (name === 'vault')
          throw new ConfigError(
            'secret store "vault" is not configured: add it under `stores.vault` in keyledger.config.yaml',
          );
        return w.store;
      },
      writer: w.writer,
      events: w.events,
      idempotency: new IdempotencyRecords(w.operational.db, systemClock),
      fingerprintKey: w.fingerprintKey,
      policy: defaultRegistryConfig().policy,
      clock: systemClock,
    });
    const eventsBefore = (await w.events.list({ limit: 1000 })).length;
    const error = await issuer
      .issue({
        provider: 'internal',
        team: 'growth',
        owner: 'bob@example.com',
        purpose: 'backups',
        permissions: ['orders:read'],
        account: 'svc-new',
        keyId: 'growth-internal-backups-001',
        store: { name: 'vault', path: 'growth/backups' },
        actor: 'test',
      })
      .then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
    expect(error).toMatchObject({ code: 'E_PREFLIGHT_FAILED' });
    expect((error as Error).message).toContain('cannot issue growth-internal-backups-001, nothing was changed');
    expect(await liveKeys(w.provider, 'svc-new')).toEqual([]);
    expect(await w.writer.fileOf('growth-internal-backups-001')).toBeUndefined();
    expect((await w.events.list({ limit: 1000 })).length).toBe(eventsBefore);
  });
});
