// The Cloudflare adapter against the Cloudflare sandbox: the shared contract on user API tokens, then Cloudflare's
// own: rolling the value (the old one refused at once, and the capabilities say so), the envelope's errors,
// policies, paging and the audit log.
import { randomBytes } from 'node:crypto';
import { APIConnectionError, APIConnectionTimeoutError, RateLimitError } from 'cloudflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOUDFLARE_USER_TOKEN_PATTERN } from '../../sandbox/providers/cloudflare/cloudflare-key-format.js';
import type {
  CloudflareAuditRecord,
  CloudflareSandbox,
} from '../../sandbox/providers/cloudflare/cloudflare-sandbox.js';
import { describeProviderContract } from '../test-support/provider-contract.js';
import { startProviderSandbox } from '../test-support/provider-sandbox.js';
import { CloudflareProvider, cloudflareAnswerOf } from './cloudflare-provider.js';
import type { CloudflareOptionsInput } from './cloudflare-schemas.js';

const ZONE_READ = 'c8fed203ed3043cba015a93ad1616f1f';

async function startCloudflare() {
  const cloudflare = await startProviderSandbox<CloudflareSandbox, CloudflareProvider>({
    name: 'cloudflare',
    adapter: (options, context) => new CloudflareProvider(options, context),
  });
  return { ...cloudflare, make: (overrides: Partial<CloudflareOptionsInput> = {}) => cloudflare.make(overrides) };
}

describeProviderContract('cloudflare', async () => {
  const cloudflare = await startCloudflare();
  return {
    provider: cloudflare.make(),
    sandbox: cloudflare.control,
    sleeps: cloudflare.sleeps,
    createRequest: async () => ({ name: `contract-${randomBytes(3).toString('hex')}`, permissions: [ZONE_READ] }),
    unknownSecret: () => ({ secret: `cfut_CANARY${randomBytes(17).toString('hex')}00000000` }),
    providerWithBadCredentials: () => cloudflare.make({ token: `cfut_${'0'.repeat(48)}` }),
    adapterSecret: cloudflare.sandbox.adminToken,
    operations: {
      list: 'cloudflare:GET /user/tokens',
      verify: 'cloudflare:GET /user/tokens/verify',
      create: 'cloudflare:POST /user/tokens',
    },
    close: cloudflare.close,
  };
});

describe('Cloudflare adapter specifics', () => {
  let cloudflare: Awaited<ReturnType<typeof startCloudflare>>;
  beforeAll(async () => {
    cloudflare = await startCloudflare();
  });
  afterAll(async () => {
    await cloudflare.close();
  });

  it('verifies a key without credentials of its own (a scanner has none); other calls name the option', async () => {
    const created = await cloudflare.make().create({ name: 'leaked', permissions: [ZONE_READ] });
    const bare = cloudflare.make({ token: undefined });
    expect((await bare.verify(created.secret)).valid).toBe(true);
    await expect(bare.revoke(created)).rejects.toMatchObject({
      code: 'E_PROVIDER_AUTH',
      message: expect.stringMatching(/needs the `/),
    });
  });

  it('rolls a token in place: same id, a new cfut_ value, the old value refused at once — and says so', async () => {
    const provider = cloudflare.make();
    expect(provider.capabilities()).toMatchObject({ nativeRotate: true, nativeRotateRevokesOld: true });
    expect(provider.capabilities().kinds?.['api-token']?.note).toMatch(/invalidates the old one at once/);
    const old = await provider.create({ name: 'dns-bot', permissions: [ZONE_READ] });
    expect(old.secret.reveal()).toMatch(CLOUDFLARE_USER_TOKEN_PATTERN);
    const rolled = await provider.rotate(old);
    expect(rolled.providerKeyId).toBe(old.providerKeyId);
    expect(rolled.secret.reveal()).toMatch(CLOUDFLARE_USER_TOKEN_PATTERN);
    expect(rolled.secret.equals(old.secret)).toBe(false);
    expect((await provider.verify(old.secret)).valid).toBe(false);
    expect(await provider.verify(rolled.secret)).toMatchObject({ valid: true, providerKeyId: old.providerKeyId });
    const audit = await cloudflare.control.auditLog<CloudflareAuditRecord[]>();
    expect(audit.filter((r) => r.resource.id === old.providerKeyId).map((r) => r.action.type)).toEqual([
      'create',
      'roll',
    ]);
    expect(JSON.stringify(audit)).not.toContain(rolled.secret.reveal());
  });

  it('does not retry a roll whose answer was lost: a second roll would lose that value too', async () => {
    const provider = cloudflare.make();
    const token = await provider.create({ name: 'lost-roll', permissions: [ZONE_READ] });
    const operation = 'cloudflare:PUT /user/tokens/{id}/value';
    const before = (await cloudflare.control.requestCounts())[operation] ?? 0;
    await cloudflare.control.addFault({ operation, kind: 'drop' });
    await expect(provider.rotate(token)).rejects.toMatchObject({
      retryable: false,
      message: expect.stringMatching(/reconcile/),
    });
    expect((await cloudflare.control.requestCounts())[operation]).toBe(before + 1);
  });

  it('passes policies through and reports their permission groups', async () => {
    const provider = cloudflare.make();
    const created = await provider.create({
      name: 'scoped',
      options: {
        policies: [
          {
            effect: 'allow',
            resources: { 'com.cloudflare.api.account.zone.eb78d65290b24279ba6f44721b3ea3c4': '*' },
            permission_groups: [{ id: ZONE_READ, name: 'Zone Read' }],
          },
        ],
      },
    });
    const listed = [];
    for await (const key of provider.list()) listed.push(key);
    expect(listed.find((key) => key.providerKeyId === created.providerKeyId)?.permissions).toEqual(['Zone Read']);
  });

  it("surfaces the envelope's errors with Cloudflare's codes", async () => {
    const provider = cloudflare.make();
    await expect(provider.create({ name: 'no-permissions' })).rejects.toMatchObject({
      code: 'E_PROVIDER_INVALID_REQUEST',
    });
    await expect(provider.create({ name: 'x'.repeat(200), permissions: [ZONE_READ] })).rejects.toMatchObject({
      code: 'E_PROVIDER_INVALID_REQUEST',
      status: 400,
      providerCode: '1001',
    });
    await expect(provider.lastUsed({ providerKeyId: 'f'.repeat(32) })).rejects.toMatchObject({
      code: 'E_PROVIDER_NOT_FOUND',
      providerCode: '1003',
    });
    const worker = await provider.create({ name: 'worker', permissions: [ZONE_READ] });
    await expect(
      cloudflare.make({ token: worker.secret }).create({ name: 'y', permissions: [ZONE_READ] }),
    ).rejects.toMatchObject({
      code: 'E_PROVIDER_AUTH',
      status: 403,
    });
  });

  it('pages through result_info', async () => {
    const provider = cloudflare.make();
    for (let i = 0; i < 60; i++) await provider.create({ name: `bulk-${i}`, permissions: [ZONE_READ] });
    let count = 0;
    for await (const _ of provider.list()) count++;
    expect(count).toBeGreaterThanOrEqual(61);
  });

  it('takes a base URL with or without a trailing slash, as the API root including /client/v4', async () => {
    const provider = cloudflare.make({ baseUrl: `${cloudflare.url}/client/v4/` });
    const created = await provider.create({ name: 'slash', permissions: [ZONE_READ] });
    expect((await provider.verify(created.secret)).valid).toBe(true);
    await provider.revoke(created);
  });

  it('reports a create whose answer timed out as a timeout, not retried', async () => {
    const provider = cloudflare.make();
    const operation = 'cloudflare:POST /user/tokens';
    const before = (await cloudflare.control.requestCounts())[operation] ?? 0;
    await cloudflare.control.addFault({ operation, kind: 'timeout', delayMs: 2_000 });
    await expect(provider.create({ name: 'slow', permissions: [ZONE_READ] })).rejects.toMatchObject({
      code: 'E_PROVIDER_TIMEOUT',
      retryable: false,
      message: expect.stringMatching(/reconcile/),
    });
    expect((await cloudflare.control.requestCounts())[operation]).toBe(before + 1);
  });
});

describe("reading the Cloudflare SDK's errors", () => {
  it('takes status, headers and the envelope from an APIError', () => {
    const body = { success: false, errors: [{ code: 971, message: 'Please wait' }], messages: [], result: null };
    const answer = cloudflareAnswerOf(new RateLimitError(429, body, undefined, new Headers({ 'Retry-After': '7' })));
    expect(answer).toMatchObject({ status: 429, headers: { 'retry-after': '7' }, body });
  });

  it('keeps a body that was not JSON as text', () => {
    const answer = cloudflareAnswerOf(new RateLimitError(429, undefined, 'slow down', new Headers()));
    expect(answer).toMatchObject({ status: 429, text: 'slow down' });
  });

  it('finds no answer in connection failures and timeouts', () => {
    expect(cloudflareAnswerOf(new APIConnectionTimeoutError())).toBeUndefined();
    expect(cloudflareAnswerOf(new APIConnectionError({ cause: new Error('socket hang up') }))).toBeUndefined();
    expect(cloudflareAnswerOf(new Error('other'))).toBeUndefined();
  });
});
