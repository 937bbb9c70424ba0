// The credential-report source through @aws-sdk/client-iam against the AWS IAM sandbox (SigV4 checked): every
// user's key slots with their rotation and last-use dates, the root row, and a refused key named by AWS's code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsIamSandbox } from '../../sandbox/providers/aws-iam/aws-iam-sandbox.js';
import { SandboxServer } from '../../sandbox/sandbox-server.js';
import { observeAll } from '../test-support/discovery-source-harness.js';
import { awsCredentialReportDiscoverySource } from './aws-credential-report-discovery-source.js';

let aws: AwsIamSandbox;
let server: SandboxServer;
let url: string;

beforeAll(async () => {
  aws = new AwsIamSandbox();
  server = new SandboxServer(aws, { rateLimit: null });
  url = await server.start();
  const admin = { AWS_ACCESS_KEY_ID: aws.admin.accessKeyId, AWS_SECRET_ACCESS_KEY: aws.admin.secretAccessKey };
  // Two users through the control API, one with two keys, as an operator would have made them.
  for (const userName of ['ci-deployer', 'billing-export'])
    await fetch(`${url}/__sandbox/users`, { method: 'POST', body: JSON.stringify({ userName }) });
  const { IAMClient, CreateAccessKeyCommand } = await import('@aws-sdk/client-iam');
  const iam = new IAMClient({
    region: 'us-east-1',
    endpoint: url,
    credentials: { accessKeyId: admin.AWS_ACCESS_KEY_ID, secretAccessKey: admin.AWS_SECRET_ACCESS_KEY },
  });
  await iam.send(new CreateAccessKeyCommand({ UserName: 'ci-deployer' }));
  await iam.send(new CreateAccessKeyCommand({ UserName: 'ci-deployer' }));
  await iam.send(new CreateAccessKeyCommand({ UserName: 'billing-export' }));
  iam.destroy();
});
afterAll(() => server.stop());

describe('aws-credential-report discovery source', () => {
  it('reports every key slot of every user from the documented CSV', async () => {
    const seen = await observeAll(
      awsCredentialReportDiscoverySource,
      { url },
      {},
      {
        AWS_ACCESS_KEY_ID: aws.admin.accessKeyId,
        AWS_SECRET_ACCESS_KEY: aws.admin.secretAccessKey,
      },
    );
    expect(seen.map((o) => `${o.principal} ${o.name}`).sort()).toEqual([
      'billing-export access_key_1',
      'ci-deployer access_key_1',
      'ci-deployer access_key_2',
      'keyledger-admin access_key_1',
    ]);
    const admin = seen.find((o) => o.principal === 'keyledger-admin')!;
    expect(admin).toMatchObject({
      provider: 'aws-iam',
      location: `arn:aws:iam::${aws.accountId}:user/keyledger-admin`,
    });
    // The admin key signed these very calls: IAM records its last use.
    expect(admin.lastUsedAt).toMatch(/^\d{4}-/);
    expect(admin.detail).toMatchObject({ active: true, root: false, lastUsedService: 'iam' });
    expect(seen.find((o) => o.principal === 'billing-export')?.lastUsedAt).toBeUndefined();
    expect(server.requestCounts()['iam:GetCredentialReport']).toBeGreaterThanOrEqual(1);
  });

  it("fails with AWS's reason on a key IAM does not know, and asks for credentials when none are set", async () => {
    const failure = observeAll(
      awsCredentialReportDiscoverySource,
      { url },
      {},
      {
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'CANARYwJalrXUtnFEMI/K7MDENG/bPxRfiCY',
      },
    );
    await expect(failure).rejects.toThrow(/security token included in the request is invalid/);
    await expect(failure).rejects.not.toThrow(/CANARY/);
    await expect(observeAll(awsCredentialReportDiscoverySource, { url }, {}, {})).rejects.toThrow(/no AWS credentials/);
  });
});
