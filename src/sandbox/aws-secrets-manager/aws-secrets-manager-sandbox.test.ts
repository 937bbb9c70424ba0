// Specification of the Secrets Manager sandbox, spoken to by the official SDK v3 client (which signs with SigV4
// and parses AWS's error shapes) and, for the failure shapes, by raw HTTP.

import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedAwsSecretsManagerSandbox, startAwsSecretsManagerSandbox } from './aws-secrets-manager-sandbox.js';

let aws: StartedAwsSecretsManagerSandbox;
let client: SecretsManagerClient;
beforeAll(async () => {
  aws = await startAwsSecretsManagerSandbox();
  client = clientWith(aws.credentials);
});
afterAll(async () => {
  client.destroy();
  await aws.close();
});

function clientWith(credentials: { accessKeyId: string; secretAccessKey: string }) {
  return new SecretsManagerClient({ region: aws.region, endpoint: aws.url, credentials, maxAttempts: 1 });
}

async function errorOf(promise: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { name: string; message: string };
  }
  throw new Error('expected a failure');
}

describe('aws secrets manager sandbox', () => {
  it('creates a secret with AWSCURRENT and reads it back by stage and by version id', async () => {
    const created = await client.send(new CreateSecretCommand({ Name: 'app/one', SecretString: 'v1' }));
    expect(created.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:app\/one-[0-9a-f]{6}$/);
    const current = await client.send(new GetSecretValueCommand({ SecretId: 'app/one' }));
    expect(current).toMatchObject({ SecretString: 'v1', VersionStages: ['AWSCURRENT'], VersionId: created.VersionId });
    expect(current.CreatedDate).toBeInstanceOf(Date);
    const byArn = await client.send(
      new GetSecretValueCommand({ SecretId: created.ARN!, VersionId: created.VersionId! }),
    );
    expect(byArn.SecretString).toBe('v1');
  });

  it('follows the rotation protocol: AWSPENDING, then moving AWSCURRENT labels the old one AWSPREVIOUS', async () => {
    const name = `rot/${randomUUID()}`;
    const first = await client.send(new CreateSecretCommand({ Name: name, SecretString: 'old' }));
    const token = randomUUID();
    const pending = await client.send(
      new PutSecretValueCommand({
        SecretId: name,
        ClientRequestToken: token,
        SecretString: 'new',
        VersionStages: ['AWSPENDING'],
      }),
    );
    expect(pending).toMatchObject({ VersionId: token, VersionStages: ['AWSPENDING'] });
    expect(
      (await client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPENDING' }))).SecretString,
    ).toBe('new');
    // Moving AWSCURRENT without naming its holder is refused, as AWS does.
    const refused = await errorOf(
      client.send(
        new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: token }),
      ),
    );
    expect(refused.name).toBe('InvalidParameterException');
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: token,
        RemoveFromVersionId: first.VersionId,
      }),
    );
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.VersionIdsToStages).toEqual({
      [first.VersionId!]: ['AWSPREVIOUS'],
      [token]: ['AWSPENDING', 'AWSCURRENT'],
    });
    await client.send(
      new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSPENDING', RemoveFromVersionId: token }),
    );
    const cannotRemove = await errorOf(
      client.send(
        new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', RemoveFromVersionId: token }),
      ),
    );
    expect(cannotRemove.name).toBe('InvalidParameterException');
    const versions = await client.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    expect(versions.Versions?.map((version) => version.VersionStages)).toEqual([['AWSPREVIOUS'], ['AWSCURRENT']]);
  });

  it('treats a ClientRequestToken as the version id: a retry is a no-op, another value is ResourceExists', async () => {
    const name = `idem/${randomUUID()}`;
    await client.send(new CreateSecretCommand({ Name: name }));
    const token = randomUUID();
    const put = () =>
      client.send(new PutSecretValueCommand({ SecretId: name, ClientRequestToken: token, SecretString: 'same' }));
    expect((await put()).VersionId).toBe(token);
    expect((await put()).VersionId).toBe(token);
    const listed = await client.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    expect(listed.Versions).toHaveLength(1);
    const clash = await errorOf(
      client.send(new PutSecretValueCommand({ SecretId: name, ClientRequestToken: token, SecretString: 'other' })),
    );
    expect(clash.name).toBe('ResourceExistsException');
    expect(clash.message).not.toContain('other');
  });

  it("answers AWS's error types for missing, existing and deleted secrets", async () => {
    expect((await errorOf(client.send(new GetSecretValueCommand({ SecretId: 'nope' })))).name).toBe(
      'ResourceNotFoundException',
    );
    const name = `dup/${randomUUID()}`;
    await client.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
    expect((await errorOf(client.send(new CreateSecretCommand({ Name: name, SecretString: 'x' })))).name).toBe(
      'ResourceExistsException',
    );
    const missingStage = await errorOf(
      client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPENDING' })),
    );
    expect(missingStage).toMatchObject({ name: 'ResourceNotFoundException' });
    await client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    expect((await errorOf(client.send(new GetSecretValueCommand({ SecretId: name })))).name).toBe(
      'InvalidRequestException',
    );
    const both = await errorOf(
      client.send(
        new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true, RecoveryWindowInDays: 7 }),
      ),
    );
    expect(both.name).toBe('InvalidParameterException');
    await client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    expect((await errorOf(client.send(new DescribeSecretCommand({ SecretId: name })))).name).toBe(
      'ResourceNotFoundException',
    );
  });

  it('refuses an unknown access key, a wrong secret key and an unsigned request', async () => {
    const stranger = clientWith({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x'.repeat(40) });
    expect((await errorOf(stranger.send(new DescribeSecretCommand({ SecretId: 'app/one' })))).name).toBe(
      'UnrecognizedClientException',
    );
    stranger.destroy();
    const forger = clientWith({ accessKeyId: aws.credentials.accessKeyId, secretAccessKey: 'y'.repeat(40) });
    expect((await errorOf(forger.send(new DescribeSecretCommand({ SecretId: 'app/one' })))).name).toBe(
      'InvalidSignatureException',
    );
    forger.destroy();
    const unsigned = await fetch(aws.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'secretsmanager.DescribeSecret', 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({ SecretId: 'app/one' }),
    });
    expect(unsigned.status).toBe(400);
    expect(unsigned.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await unsigned.json()).toEqual({
      __type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
  });

  it('checks only the shape and the key when full verification is off', async () => {
    const lax = await startAwsSecretsManagerSandbox({ verifySignatures: false });
    const forger = new SecretsManagerClient({
      region: lax.region,
      endpoint: lax.url,
      credentials: { accessKeyId: lax.credentials.accessKeyId, secretAccessKey: 'z'.repeat(40) },
      maxAttempts: 1,
    });
    await forger.send(new CreateSecretCommand({ Name: 'lax', SecretString: 'x' }));
    forger.destroy();
    await lax.close();
  });
});
