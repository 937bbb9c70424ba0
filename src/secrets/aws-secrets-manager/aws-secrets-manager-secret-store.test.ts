// The Secrets Manager store against the sandbox over real HTTP through the official SDK: the shared contract,
// then what is AWS's own — the staging labels as the rotation protocol leaves them, resuming a half-finished
// promote, errors typed from AWS's codes with values redacted even when the server echoes one.

import { randomBytes } from 'node:crypto';
import {
  DescribeSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type StartedAwsSecretsManagerSandbox,
  startAwsSecretsManagerSandbox,
} from '../../sandbox/aws-secrets-manager/aws-secrets-manager-sandbox.js';
import { SecretValue } from '../secret-value.js';
import { canaryValue, describeSecretStoreContract, expectErrorFreeOf } from '../test-support/secret-store-contract.js';
import {
  type AwsSecretsManagerSecretStoreOptionsInput,
  awsSecretsManagerSecretStoreOptionsSchema,
} from './aws-secrets-manager-schemas.js';
import { AwsSecretsManagerSecretStore, clientRequestTokenFor } from './aws-secrets-manager-secret-store.js';

let aws: StartedAwsSecretsManagerSandbox;
let raw: SecretsManagerClient;
const stores: AwsSecretsManagerSecretStore[] = [];
beforeAll(async () => {
  aws = await startAwsSecretsManagerSandbox();
  // The SDK marks the credentials object it is given, so it gets a copy.
  raw = new SecretsManagerClient({ region: aws.region, endpoint: aws.url, credentials: { ...aws.credentials } });
});
afterAll(async () => {
  for (const store of stores) store.close();
  raw.destroy();
  await aws.close();
});

function storeWith(options: Partial<AwsSecretsManagerSecretStoreOptionsInput> = {}): AwsSecretsManagerSecretStore {
  const store = new AwsSecretsManagerSecretStore(
    awsSecretsManagerSecretStoreOptionsSchema.parse({
      region: aws.region,
      endpoint: aws.url,
      credentials: { ...aws.credentials },
      maxAttempts: 1,
      ...options,
    }),
  );
  stores.push(store);
  return store;
}

let shared: AwsSecretsManagerSecretStore | undefined;
describeSecretStoreContract('aws-secrets-manager', () => {
  shared ??= storeWith({ namePrefix: 'keyledger/' });
  return shared;
});

const labels = async (name: string) =>
  (await raw.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages;

describe('aws secrets manager store specifics', () => {
  it('leaves the labels exactly as the rotation protocol does', async () => {
    const store = storeWith();
    const path = `labels/${randomBytes(4).toString('hex')}`;
    const v1 = await store.put(path, new SecretValue(canaryValue()), { stage: 'current' });
    const v2 = await store.put(path, new SecretValue(canaryValue()), {
      stage: 'pending',
      idempotencyToken: 'rotation-1/store',
    });
    expect(v2.versionId).toBe(clientRequestTokenFor('rotation-1/store'));
    expect(await labels(path)).toEqual({ [v1.versionId]: ['AWSCURRENT'], [v2.versionId]: ['AWSPENDING'] });
    await store.promote(path);
    expect(await labels(path)).toEqual({ [v1.versionId]: ['AWSPREVIOUS'], [v2.versionId]: ['AWSCURRENT'] });
  });

  it('finishes a promote that stopped after moving AWSCURRENT', async () => {
    const store = storeWith();
    const path = `resume/${randomBytes(4).toString('hex')}`;
    const v1 = await store.put(path, new SecretValue(canaryValue()), { stage: 'current' });
    const v2 = await store.put(path, new SecretValue(canaryValue()), { stage: 'pending' });
    await raw.send(
      new UpdateSecretVersionStageCommand({
        SecretId: path,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: v2.versionId,
        RemoveFromVersionId: v1.versionId,
      }),
    );
    expect((await store.get(path, 'pending'))?.stages).toEqual(['pending', 'current']);
    const promoted = await store.promote(path);
    expect(promoted).toMatchObject({ versionId: v2.versionId, stages: ['current'] });
    expect(await labels(path)).toEqual({ [v1.versionId]: ['AWSPREVIOUS'], [v2.versionId]: ['AWSCURRENT'] });
  });

  it('keeps metadata in tags and drops the tags of versions that lost every label', async () => {
    const store = storeWith();
    const path = `tags/${randomBytes(4).toString('hex')}`;
    await store.put(path, new SecretValue(canaryValue()), { stage: 'current', metadata: { providerKeyId: 'k1' } });
    for (let round = 2; round <= 4; round += 1) {
      await store.put(path, new SecretValue(canaryValue()), {
        stage: 'pending',
        metadata: { providerKeyId: `k${round}` },
      });
      await store.promote(path);
    }
    const tags = (await raw.send(new DescribeSecretCommand({ SecretId: path }))).Tags ?? [];
    expect(tags.filter((tag) => tag.Key?.startsWith('keyledger:v:')).length).toBeLessThanOrEqual(3);
    expect((await store.get(path))?.metadata).toEqual({ providerKeyId: 'k4' });
    expect((await store.get(path, 'previous'))?.metadata).toEqual({ providerKeyId: 'k3' });
    await expect(
      store.put(path, new SecretValue(canaryValue()), { stage: 'pending', metadata: { big: 'x'.repeat(300) } }),
    ).rejects.toMatchObject({
      code: 'E_SECRET_STORE_INVALID_REQUEST',
    });
  });

  it('redacts a value that the server echoes into an error', async () => {
    const store = storeWith();
    const path = `echo/${randomBytes(4).toString('hex')}`;
    await store.put(path, new SecretValue(canaryValue()), { stage: 'current' });
    const value = canaryValue('echoed');
    aws.server.faults.add({
      operation: 'secretsmanager:PutSecretValue',
      kind: 'status',
      status: 500,
      echoSecret: true,
    });
    const error = await store
      .put(path, new SecretValue(value), { stage: 'pending' })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'E_SECRET_STORE_UNAVAILABLE', storeCode: 'InternalServiceError', status: 500 });
    expect(String((error as Error).message)).toContain('[REDACTED]');
    expectErrorFreeOf(error, value);
  });

  it('fails with E_SECRET_STORE_AUTH for an access key AWS does not know', async () => {
    const secretAccessKey = randomBytes(20).toString('base64');
    const store = storeWith({ credentials: { accessKeyId: 'AKIA0000000000000000', secretAccessKey } });
    const error = await store.get('any/path').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'E_SECRET_STORE_AUTH', storeCode: 'UnrecognizedClientException' });
    expectErrorFreeOf(error, secretAccessKey);
  });

  it('fails with E_SECRET_STORE_UNAVAILABLE when the endpoint is down', async () => {
    const down = await startAwsSecretsManagerSandbox();
    const endpoint = down.url;
    await down.close();
    const store = storeWith({ endpoint });
    await expect(store.exists('any/path')).rejects.toMatchObject({
      code: 'E_SECRET_STORE_UNAVAILABLE',
      retryable: true,
    });
  });
});
