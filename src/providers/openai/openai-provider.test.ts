// The OpenAI adapter against the OpenAI sandbox: the shared contract on service-account keys of a project, then
// OpenAI's own: more keys for one service account, users' keys listed and deleted, the admin-key requirement,
// audit logs naming keys by id, and the x-ratelimit-reset-requests duration; then what the SDK leaves to the
// adapter, against a bare HTTP server: a body that never ends, error answers that are not JSON, malformed JSON.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../runtime/clock.js';
import { OPENAI_KEY_PATTERN } from '../../sandbox/providers/openai/openai-key-format.js';
import type { OpenaiAuditLog, OpenaiSandbox } from '../../sandbox/providers/openai/openai-sandbox.js';
import { SecretValue } from '../../secrets/secret-value.js';
import { describeProviderContract, recordingSleep } from '../test-support/provider-contract.js';
import { startProviderSandbox } from '../test-support/provider-sandbox.js';
import { OpenaiProvider, parseOpenaiDuration } from './openai-provider.js';
import type { OpenaiOptionsInput } from './openai-schemas.js';

const PROJECT = 'proj_abcdefghijklmnopqrstuvwx';
const USER_KEY = `sk-proj-${'u'.repeat(74)}T3BlbkFJ${'v'.repeat(74)}`;

async function startOpenai() {
  const started = await startProviderSandbox<OpenaiSandbox, OpenaiProvider>({
    name: 'openai',
    adapter: (options, context) => new OpenaiProvider(options, context),
    sandboxSettings: { projects: [PROJECT] },
    prepare: (sandbox) => {
      sandbox.load({
        people: [],
        keys: [
          {
            provider: 'openai',
            kind: 'project-api-key',
            account: PROJECT,
            providerKeyId: 'key_userkey000000001',
            secret: USER_KEY,
            name: 'notebook',
            createdAt: '2025-01-01T00:00:00Z',
            lastUsedAt: '2025-03-01T00:00:00Z',
            status: 'active',
            createdBy: 'ana@example.com',
            permissions: ['model.request'],
          },
        ],
      });
    },
  });
  return { ...started, make: (overrides: Partial<OpenaiOptionsInput> = {}) => started.make(overrides) };
}

describeProviderContract('openai', async () => {
  const openai = await startOpenai();
  return {
    provider: openai.make(),
    sandbox: openai.control,
    sleeps: openai.sleeps,
    createRequest: async () => ({ name: `contract-${randomBytes(3).toString('hex')}`, account: PROJECT }),
    unknownSecret: () => ({
      secret: `sk-proj-CANARY${randomBytes(30).toString('hex')}T3BlbkFJ${randomBytes(30).toString('hex')}`,
    }),
    providerWithBadCredentials: () => openai.make({ adminKey: `sk-admin-${'0'.repeat(74)}T3BlbkFJ${'0'.repeat(74)}` }),
    adapterSecret: openai.sandbox.adminKey,
    operations: {
      list: 'openai:GET /organization/projects/{project_id}/api_keys',
      verify: 'openai:GET /v1/models',
      create: 'openai:POST /organization/projects/{project_id}/service_accounts',
    },
    close: openai.close,
  };
});

describe('OpenAI adapter specifics', () => {
  let openai: Awaited<ReturnType<typeof startOpenai>>;
  beforeAll(async () => {
    openai = await startOpenai();
  });
  afterAll(async () => {
    await openai.close();
  });

  it('verifies a key without credentials of its own (a scanner has none); other calls name the option', async () => {
    const created = await openai.make().create({ name: 'leaked', account: PROJECT });
    const bare = openai.make({ adminKey: undefined });
    expect((await bare.verify(created.secret)).valid).toBe(true);
    await expect(bare.revoke(created)).rejects.toMatchObject({
      code: 'E_PROVIDER_AUTH',
      message: expect.stringMatching(/needs the `/),
    });
  });

  it('creates a service account with an sk-svcacct- key, and lists users’ keys beside it', async () => {
    const provider = openai.make();
    const created = await provider.create({ name: 'billing-worker', account: PROJECT });
    expect(created.secret.reveal()).toMatch(OPENAI_KEY_PATTERN);
    expect(created.secret.reveal().startsWith('sk-svcacct-')).toBe(true);
    expect(created.providerKeyId).toMatch(/^key_/);
    const listed = [];
    for await (const key of provider.list()) listed.push(key);
    const user = listed.find((key) => key.providerKeyId === 'key_userkey000000001');
    expect(user).toMatchObject({
      account: PROJECT,
      createdBy: 'ana@example.com',
      lastUsedAt: new Date('2025-03-01T00:00:00Z'),
    });
    expect(listed.find((key) => key.providerKeyId === created.providerKeyId)?.createdBy).toMatch(
      /^service_account:svc_acct_/,
    );
    expect(JSON.stringify(listed)).not.toContain(created.secret.reveal());
  });

  it('adds another key to an existing service account, and verify names the project', async () => {
    const provider = openai.make();
    const first = await provider.create({ name: 'etl', account: PROJECT });
    const listed = [];
    for await (const key of provider.list({ account: PROJECT })) listed.push(key);
    const serviceAccountId = listed.find((key) => key.providerKeyId === first.providerKeyId)!.createdBy!.split(':')[1];
    const second = await provider.create({ name: 'etl-2', account: PROJECT, options: { serviceAccountId } });
    expect(second.providerKeyId).not.toBe(first.providerKeyId);
    expect(await provider.verify(second.secret)).toEqual({ valid: true, identity: PROJECT });
    await provider.revoke({ providerKeyId: second.providerKeyId, account: PROJECT });
    expect((await provider.verify(first.secret)).valid).toBe(true);
  });

  it("deletes a user's key, and the audit log names the keys by id with the admin key as actor", async () => {
    const provider = openai.make();
    expect((await provider.verify(new SecretValue(USER_KEY))).valid).toBe(true);
    await provider.revoke({ providerKeyId: 'key_userkey000000001', account: PROJECT });
    const refused = await provider.verify(new SecretValue(USER_KEY));
    expect(refused.valid).toBe(false);
    expect(refused.reason).toMatch(/^Incorrect API key provided: sk-proj-\*\*\*\*vvvv/);
    const audit = await openai.control.auditLog<OpenaiAuditLog[]>();
    const deleted = audit.find(
      (entry) =>
        entry.type === 'api_key.deleted' && (entry['api_key.deleted'] as { id: string }).id === 'key_userkey000000001',
    );
    expect(deleted).toMatchObject({
      'api_key.deleted': { id: 'key_userkey000000001' },
      actor: { type: 'api_key', api_key: { id: openai.sandbox.adminKeyId } },
      project: { id: PROJECT },
    });
    expect(JSON.stringify(audit)).not.toContain(USER_KEY);
  });

  it('refuses the admin API to a project key, and a malformed project', async () => {
    const key = await openai.make().create({ name: 'not-admin', account: PROJECT });
    await expect(openai.make({ adminKey: key.secret }).create({ name: 'x', account: PROJECT })).rejects.toMatchObject({
      code: 'E_PROVIDER_AUTH',
      status: 403,
      providerCode: 'insufficient_permissions',
    });
    await expect(openai.make().create({ name: 'x', account: 'my-project' })).rejects.toMatchObject({
      code: 'E_PROVIDER_INVALID_REQUEST',
    });
    await expect(openai.make().create({ name: 'x', account: 'proj_missing' })).rejects.toMatchObject({
      code: 'E_PROVIDER_NOT_FOUND',
    });
  });

  it('reads x-ratelimit-reset-requests durations', () => {
    expect(parseOpenaiDuration('6m0s')).toBe(360);
    expect(parseOpenaiDuration('1s')).toBe(1);
    expect(parseOpenaiDuration('20ms')).toBeCloseTo(0.02);
    expect(parseOpenaiDuration(undefined)).toBeUndefined();
  });

  it('pages with after/has_more', async () => {
    const provider = openai.make();
    const project = 'proj_bulk00000000000000000000';
    openai.sandbox.addProject(project);
    for (let i = 0; i < 105; i++) await provider.create({ name: `bulk-${i}`, account: project });
    let count = 0;
    for await (const _ of provider.list({ account: project })) count++;
    expect(count).toBe(105);
  });
});

describe('OpenAI adapter on the SDK, against a bare server', () => {
  const ADMIN_KEY = `sk-admin-${'a'.repeat(20)}CANARY${'b'.repeat(20)}`;
  const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  let baseUrl = '';
  const sleeps: number[] = [];
  const make = () =>
    new OpenaiProvider(
      {
        baseUrl,
        adminKey: ADMIN_KEY,
        timeoutMs: 200,
        retry: { maxAttempts: 2, baseDelayMs: 1, budgetMs: 10_000 },
        rateLimit: 'off',
      },
      { clock: systemClock, sleep: recordingSleep(sleeps) },
    );
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the admin key to the /v1 root with our user agent, and times out a body that never ends', async () => {
    seen.length = 0;
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"object": "organization.project.api_key", "id": "key_1", ');
    };
    const error = await make()
      .lastUsed({ providerKeyId: 'key_1', account: PROJECT })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'E_PROVIDER_TIMEOUT', retryable: true });
    expect((error as Error).cause).toBeUndefined();
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatchObject({
      method: 'GET',
      url: `/v1/organization/projects/${PROJECT}/api_keys/key_1`,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'user-agent': 'keyledger' },
    });
    expect(seen[0]!.headers['openai-organization']).toBeUndefined();
  });

  it('reads an error answer that is not JSON, and cuts the admin key out of it', async () => {
    handler = (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end(`<html>Bad gateway for ${ADMIN_KEY}</html>`);
    };
    const error = await make()
      .lastUsed({ providerKeyId: 'key_1', account: PROJECT })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'E_PROVIDER_UNAVAILABLE', status: 502, retryable: true });
    expect((error as Error).message).toBe('openai: <html>Bad gateway for [REDACTED]</html>');
    expect((error as Error).cause).toBeUndefined();
  });

  it('reports malformed JSON without quoting it, and does not repeat a create', async () => {
    seen.length = 0;
    const value = `sk-svcacct-${'c'.repeat(40)}`;
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"id": "svc_acct_1", "api_key": {"id": "key_2", "value": "${value}"`);
    };
    const error = await make()
      .create({ name: 'x', account: PROJECT })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'E_PROVIDER', retryable: false });
    expect(JSON.stringify(error)).not.toContain(value);
    expect((error as Error).message).not.toContain(value);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: `/v1/organization/projects/${PROJECT}/service_accounts` });
  });
});
