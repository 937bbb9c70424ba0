// The SendGrid adapter against the SendGrid sandbox: the shared contract on the parent account's keys, then
// SendGrid's own: subusers through on-behalf-of, scopes, the key naming its own id, X-RateLimit-Reset.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SENDGRID_API_KEY_PATTERN } from '../../sandbox/providers/sendgrid/sendgrid-key-format.js';
import type { SendgridSandbox } from '../../sandbox/providers/sendgrid/sendgrid-sandbox.js';
import { describeProviderContract, expectFreeOfSecret } from '../test-support/provider-contract.js';
import { startProviderSandbox } from '../test-support/provider-sandbox.js';
import { SendgridProvider } from './sendgrid-provider.js';
import type { SendgridOptionsInput } from './sendgrid-schemas.js';

async function drain(keys: AsyncIterable<unknown>): Promise<unknown[]> {
  const all: unknown[] = [];
  for await (const key of keys) all.push(key);
  return all;
}

async function startSendgrid() {
  const sendgrid = await startProviderSandbox<SendgridSandbox, SendgridProvider>({
    name: 'sendgrid',
    adapter: (options, context) => new SendgridProvider(options, context),
    prepare: (sandbox) => sandbox.addSubuser('marketing'),
  });
  return { ...sendgrid, make: (overrides: Partial<SendgridOptionsInput> = {}) => sendgrid.make(overrides) };
}

describeProviderContract('sendgrid', async () => {
  const sendgrid = await startSendgrid();
  return {
    provider: sendgrid.make(),
    sandbox: sendgrid.control,
    sleeps: sendgrid.sleeps,
    createRequest: async () => ({ name: `contract-${randomBytes(3).toString('hex')}`, permissions: ['mail.send'] }),
    unknownSecret: () => ({
      secret: `SG.CANARY${randomBytes(8).toString('hex')}.${randomBytes(32).toString('base64url').slice(0, 43)}`,
    }),
    providerWithBadCredentials: () => sendgrid.make({ apiKey: `SG.${'A'.repeat(22)}.${'B'.repeat(43)}` }),
    adapterSecret: sendgrid.sandbox.adminKey,
    operations: {
      list: 'sendgrid:GET /v3/api_keys',
      verify: 'sendgrid:GET /v3/scopes',
      create: 'sendgrid:POST /v3/api_keys',
    },
    close: sendgrid.close,
  };
});

describe('SendGrid adapter specifics', () => {
  let sendgrid: Awaited<ReturnType<typeof startSendgrid>>;
  beforeAll(async () => {
    sendgrid = await startSendgrid();
  });
  afterAll(async () => {
    await sendgrid.close();
  });

  it('verifies a key without credentials of its own (a scanner has none); other calls name the option', async () => {
    const created = await sendgrid.make().create({ name: 'leaked', permissions: ['mail.send'] });
    const bare = sendgrid.make({ apiKey: undefined });
    expect((await bare.verify(created.secret)).valid).toBe(true);
    await expect(bare.revoke(created)).rejects.toMatchObject({
      code: 'E_PROVIDER_AUTH',
      message: expect.stringMatching(/needs the `/),
    });
  });

  it('creates keys in the SG.<id>.<secret> format whose id verify reads back', async () => {
    const provider = sendgrid.make();
    const created = await provider.create({ name: 'mailer', permissions: ['mail.send'] });
    expect(created.secret.reveal()).toMatch(SENDGRID_API_KEY_PATTERN);
    expect(created.secret.reveal().split('.')[1]).toBe(created.providerKeyId);
    expect(await provider.verify(created.secret)).toEqual({ valid: true, providerKeyId: created.providerKeyId });
  });

  it("manages a subuser's keys through on-behalf-of, apart from the parent's", async () => {
    const provider = sendgrid.make();
    const created = await provider.create({ name: 'campaigns', account: 'marketing', permissions: ['mail.send'] });
    const sub = [];
    for await (const key of provider.list({ account: 'marketing' })) sub.push(key.providerKeyId);
    const everyone = [];
    for await (const key of provider.list()) everyone.push(key.providerKeyId);
    expect(sub).toEqual([created.providerKeyId]);
    expect(everyone).toContain(created.providerKeyId);
    const own = [];
    for await (const key of provider.list()) if (!key.account) own.push(key.providerKeyId);
    expect(own).not.toContain(created.providerKeyId);
    await provider.revoke({ providerKeyId: created.providerKeyId, account: 'marketing' });
    expect((await provider.verify(created.secret)).valid).toBe(false);
  });

  it("lists each key with its scopes, which only the key's details carry", async () => {
    const provider = sendgrid.make();
    const admin = await provider.create({ name: 'key-admin', permissions: ['api_keys.create', 'user.profile.read'] });
    const mailer = await provider.create({ name: 'list-mailer', account: 'marketing', permissions: ['mail.send'] });
    const listed = new Map<string, string[] | undefined>();
    for await (const key of provider.list()) listed.set(key.providerKeyId, key.permissions);
    expect(listed.get(admin.providerKeyId)).toEqual(['api_keys.create', 'user.profile.read']);
    expect(listed.get(mailer.providerKeyId)).toEqual(['mail.send']);
  });

  it("refuses management to a key without the api_keys scopes, in SendGrid's words", async () => {
    const mailOnly = await sendgrid.make().create({ name: 'mail-only', permissions: ['mail.send'] });
    await expect(sendgrid.make({ apiKey: mailOnly.secret }).create({ name: 'x' })).rejects.toMatchObject({
      code: 'E_PROVIDER_AUTH',
      status: 403,
      message: 'sendgrid: access forbidden',
    });
    await expect(sendgrid.make().create({ name: 'x', account: 'nobody' })).rejects.toMatchObject({
      code: 'E_PROVIDER_AUTH',
    });
  });

  it('sends one request per attempt: the SDK does not retry, ours decide', async () => {
    await sendgrid.control.clearFaults();
    const once = sendgrid.make({ retry: { maxAttempts: 1 } });
    const operation = 'sendgrid:GET /v3/api_keys';
    const count = async () => (await sendgrid.control.requestCounts())[operation] ?? 0;
    await sendgrid.control.addFault({ operation, kind: 'status', status: 503, times: -1 });
    const before = await count();
    await expect(drain(once.list({ account: 'marketing' }))).rejects.toMatchObject({
      code: 'E_PROVIDER_UNAVAILABLE',
      status: 503,
    });
    expect((await count()) - before).toBe(1);
    await sendgrid.control.clearFaults();
  });

  it('maps the SDK timeout (axios ECONNABORTED) to a retryable E_PROVIDER_TIMEOUT, without the SDK error', async () => {
    await sendgrid.control.clearFaults();
    const once = sendgrid.make({ retry: { maxAttempts: 1 } });
    await sendgrid.control.addFault({ operation: 'sendgrid:GET /v3/api_keys', kind: 'timeout', delayMs: 2_000 });
    const error = await drain(once.list({ account: 'marketing' })).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'E_PROVIDER_TIMEOUT', retryable: true });
    expect((error as Error).cause).toBeUndefined();
    expectFreeOfSecret(error, sendgrid.sandbox.adminKey);
    await sendgrid.control.clearFaults();
  });

  it('says it keeps no last use', async () => {
    const provider = sendgrid.make();
    expect(provider.capabilities()).toMatchObject({ lastUsed: false, maxKeysPerAccount: 100 });
    await expect(provider.lastUsed()).rejects.toMatchObject({ code: 'E_PROVIDER_UNSUPPORTED' });
  });
});
