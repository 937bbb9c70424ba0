// SigV4 as the AWS sandbox checks it: a request the official SDK signed passes; the same request with its body,
// a signed header or the secret changed fails with AWS's own error codes.
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxServer } from '../../sandbox-server.js';
import { AwsIamSandbox } from './aws-iam-sandbox.js';

interface CapturedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** Lets the SDK sign a GetCallerIdentity call and hands back the signed request instead of sending it. */
async function signedRequest(accessKeyId: string, secretAccessKey: string, endpoint: string): Promise<CapturedRequest> {
  let captured: CapturedRequest | undefined;
  const client = new STSClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
    requestHandler: {
      handle: async (req: CapturedRequest) => {
        captured = { method: req.method, path: req.path, headers: { ...req.headers }, body: String(req.body) };
        throw new Error('captured');
      },
    } as never,
  });
  await client.send(new GetCallerIdentityCommand({})).catch(() => undefined);
  client.destroy();
  if (!captured) throw new Error('the SDK did not produce a request');
  return captured;
}

async function replay(url: string, captured: CapturedRequest, change: Partial<CapturedRequest> = {}) {
  const sent = { ...captured, ...change };
  const { host: _host, 'content-length': _length, ...headers } = sent.headers;
  const response = await request(`${url}${sent.path}`, { method: 'POST', headers, body: sent.body });
  const text = await response.body.text();
  return { status: response.statusCode, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1], text };
}

describe('SigV4 verification in the AWS sandbox', () => {
  const sandbox = new AwsIamSandbox();
  const server = new SandboxServer(sandbox);
  let url: string;
  beforeAll(async () => {
    url = await server.start();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('accepts what the SDK signed', async () => {
    const captured = await signedRequest(sandbox.admin.accessKeyId, sandbox.admin.secretAccessKey, url);
    const answer = await replay(url, captured);
    expect(answer.status).toBe(200);
    expect(answer.text).toContain(`<Arn>arn:aws:iam::123456789012:user/${sandbox.admin.userName}</Arn>`);
  });

  it('refuses a changed body, a changed signed header and a wrong secret with SignatureDoesNotMatch', async () => {
    const captured = await signedRequest(sandbox.admin.accessKeyId, sandbox.admin.secretAccessKey, url);
    expect((await replay(url, captured, { body: `${captured.body}&Extra=1` })).code).toBe('SignatureDoesNotMatch');
    const headers = { ...captured.headers, 'x-amz-date': '20200101T000000Z' };
    expect((await replay(url, captured, { headers })).code).toBe('SignatureDoesNotMatch');
    const wrong = await signedRequest(sandbox.admin.accessKeyId, 'W'.repeat(40), url);
    expect(await replay(url, wrong)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
  });

  it('refuses an unknown key with InvalidClientTokenId and a missing signature with MissingAuthenticationToken', async () => {
    const unknown = await signedRequest('AKIAQQQQQQQQQQQQQQQQ', 'W'.repeat(40), url);
    expect(await replay(url, unknown)).toMatchObject({ status: 403, code: 'InvalidClientTokenId' });
    const { authorization: _auth, ...unsigned } = unknown.headers;
    expect((await replay(url, unknown, { headers: unsigned })).code).toBe('MissingAuthenticationToken');
  });
});
