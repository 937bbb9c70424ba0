// The Twilio adapter against the Twilio sandbox: the shared contract on API keys of the main account, then
// Twilio's own: subaccounts, Standard keys refused on the Keys resource, `SK...:secret`, paging, error codes.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TWILIO_KEY_SECRET_PATTERN, TWILIO_KEY_SID_PATTERN } from '../../sandbox/providers/twilio/twilio-key-format.js';
import type { TwilioMonitorEvent, TwilioSandbox } from '../../sandbox/providers/twilio/twilio-sandbox.js';
import { SecretValue } from '../../secrets/secret-value.js';
import { describeProviderContract } from '../test-support/provider-contract.js';
import { startProviderSandbox } from '../test-support/provider-sandbox.js';
import { TwilioProvider } from './twilio-provider.js';
import type { TwilioOptionsInput } from './twilio-schemas.js';

const SUBACCOUNT = `AC${'1'.repeat(32)}`;
const SEEDED_KEY = `SK${'2'.repeat(32)}`;

async function startTwilio() {
  const twilio = await startProviderSandbox<TwilioSandbox, TwilioProvider>({
    name: 'twilio',
    adapter: (options, context) => new TwilioProvider(options, context),
    prepare: (sandbox) => {
      sandbox.load({
        people: [],
        keys: [
          {
            provider: 'twilio',
            kind: 'api-key',
            account: SUBACCOUNT,
            providerKeyId: SEEDED_KEY,
            secret: 'S'.repeat(32),
            name: 'sms-sender',
            createdAt: '2025-01-01T00:00:00Z',
            lastUsedAt: null,
            status: 'active',
            permissions: ['standard'],
          },
        ],
      });
    },
  });
  return { ...twilio, make: (overrides: Partial<TwilioOptionsInput> = {}) => twilio.make(overrides) };
}

describeProviderContract('twilio', async () => {
  const twilio = await startTwilio();
  return {
    provider: twilio.make(),
    sandbox: twilio.control,
    sleeps: twilio.sleeps,
    createRequest: async () => ({
      name: `contract-${randomBytes(3).toString('hex')}`,
      account: twilio.sandbox.accountSid,
    }),
    unknownSecret: () => ({
      secret: `twCANARY${randomBytes(12).toString('hex')}`,
      ref: { providerKeyId: `SK${randomBytes(16).toString('hex')}`, account: twilio.sandbox.accountSid },
    }),
    providerWithBadCredentials: () => twilio.make({ authToken: '0'.repeat(32) }),
    adapterSecret: twilio.sandbox.authToken,
    operations: {
      list: 'twilio:GET /Accounts/{Sid}/Keys.json',
      verify: 'twilio:GET /Accounts/{Sid}.json',
      create: 'twilio:POST /Accounts/{Sid}/Keys.json',
    },
    close: twilio.close,
  };
});

describe('Twilio adapter specifics', () => {
  let twilio: Awaited<ReturnType<typeof startTwilio>>;
  beforeAll(async () => {
    twilio = await startTwilio();
  });
  afterAll(async () => {
    await twilio.close();
  });

  it('verifies a key without credentials of its own (a scanner has none); other calls name the option', async () => {
    const created = await twilio.make().create({ name: 'leaked' });
    const bare = twilio.make({ authToken: undefined, accountSid: undefined });
    expect((await bare.verify(created.secret, created)).valid).toBe(true);
    await expect(bare.create({ name: 'x', account: created.account! })).rejects.toMatchObject({
      code: 'E_PROVIDER_AUTH',
      message: expect.stringMatching(/needs the `/),
    });
  });

  it('mints SK sids with 32-character secrets, and lists the main account and its subaccounts', async () => {
    const provider = twilio.make();
    const created = await provider.create({ name: 'x'.repeat(80) });
    expect(created.account).toBe(twilio.sandbox.accountSid);
    expect(created.providerKeyId).toMatch(TWILIO_KEY_SID_PATTERN);
    expect(created.secret.reveal()).toMatch(TWILIO_KEY_SECRET_PATTERN);
    const inSub = await provider.create({ name: 'sub', account: SUBACCOUNT });
    const all = [];
    for await (const key of provider.list()) all.push(`${key.account}/${key.providerKeyId}`);
    expect(all).toEqual(
      expect.arrayContaining([
        `${twilio.sandbox.accountSid}/${created.providerKeyId}`,
        `${SUBACCOUNT}/${SEEDED_KEY}`,
        `${SUBACCOUNT}/${inSub.providerKeyId}`,
      ]),
    );
    const events = await twilio.control.auditLog<TwilioMonitorEvent[]>();
    expect(events.find((e) => e.resource_sid === inSub.providerKeyId)).toMatchObject({
      event_type: 'api-key.created',
      account_sid: SUBACCOUNT,
      actor_sid: twilio.sandbox.accountSid,
      resource_type: 'api-key',
    });
    expect(JSON.stringify(events)).not.toContain(inSub.secret.reveal());
  });

  it('verifies a Standard key (403 on the Account resource still proves it) and a SID:secret pair', async () => {
    const provider = twilio.make();
    expect(
      await provider.verify(new SecretValue('S'.repeat(32)), { providerKeyId: SEEDED_KEY, account: SUBACCOUNT }),
    ).toEqual({
      valid: true,
      identity: SUBACCOUNT,
      providerKeyId: SEEDED_KEY,
    });
    const created = await provider.create({ name: 'pair' });
    const pair = new SecretValue(`${created.providerKeyId}:${created.secret.reveal()}`);
    expect((await provider.verify(pair)).valid).toBe(true);
    await expect(provider.verify(created.secret)).rejects.toMatchObject({ code: 'E_PROVIDER_INVALID_REQUEST' });
  });

  it('refuses key management to a Standard key, with Twilio’s code', async () => {
    const created = await twilio.make().create({ name: 'standard' });
    const asKey = twilio.make({ keySid: created.providerKeyId, authToken: created.secret.reveal() });
    await expect(asKey.create({ name: 'nope' })).rejects.toMatchObject({
      code: 'E_PROVIDER_AUTH',
      status: 403,
      providerCode: '20003',
    });
  });

  it('says it keeps no last use, and answers 20404 for an unknown account', async () => {
    const provider = twilio.make();
    expect(provider.capabilities().lastUsed).toBe(false);
    await expect(provider.lastUsed()).rejects.toMatchObject({ code: 'E_PROVIDER_UNSUPPORTED' });
    await expect(provider.create({ name: 'x', account: `AC${'9'.repeat(32)}` })).rejects.toMatchObject({
      code: 'E_PROVIDER_NOT_FOUND',
      providerCode: '20404',
    });
    await expect(provider.create({ name: 'x', account: 'main' })).rejects.toMatchObject({
      code: 'E_PROVIDER_INVALID_REQUEST',
    });
  });

  it('keeps Retry-After, which the SDK’s RestException drops: a wait beyond the budget is handed to the caller', async () => {
    const provider = twilio.make({ retry: { maxAttempts: 4, baseDelayMs: 10, budgetMs: 1_000 } });
    await twilio.control.addFault({
      operation: 'twilio:GET /Accounts/{Sid}/Keys.json',
      kind: 'rate-limit',
      retryAfterSeconds: 30,
    });
    try {
      const keys = provider.list({ account: twilio.sandbox.accountSid });
      await expect(
        (async () => {
          for await (const _ of keys);
        })(),
      ).rejects.toMatchObject({
        code: 'E_PROVIDER_RATE_LIMITED',
        status: 429,
        providerCode: '20429',
        retryAfterSeconds: 30,
      });
    } finally {
      await twilio.control.clearFaults();
    }
  });

  it('names a timeout as one (axios’ ECONNABORTED under the SDK), retryable, after its own retries', async () => {
    const provider = twilio.make({ retry: { maxAttempts: 2, baseDelayMs: 10, budgetMs: 120_000 } });
    await twilio.control.addFault({
      operation: 'twilio:GET /Accounts/{Sid}.json',
      kind: 'timeout',
      delayMs: 1_000,
      times: -1,
    });
    try {
      const created = await provider.create({ name: 'slow' });
      await expect(provider.verify(created.secret, created)).rejects.toMatchObject({
        code: 'E_PROVIDER_TIMEOUT',
        retryable: true,
      });
    } finally {
      await twilio.control.clearFaults();
    }
  });

  it('pages through next_page_uri', async () => {
    const provider = twilio.make();
    const account = `AC${'3'.repeat(32)}`;
    twilio.sandbox.load({
      people: [],
      keys: Array.from({ length: 1205 }, (_, i) => ({
        provider: 'twilio',
        kind: 'api-key',
        account,
        providerKeyId: `SK${i.toString(16).padStart(32, '0')}`,
        secret: randomBytes(16).toString('hex'),
        name: `bulk-${i}`,
        createdAt: '2025-01-01T00:00:00Z',
        lastUsedAt: null,
        status: 'active' as const,
        permissions: [],
      })),
    });
    let count = 0;
    for await (const _ of provider.list({ account })) count++;
    expect(count).toBe(1205);
  });
});
