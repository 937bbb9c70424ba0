// The Datadog adapter against the Datadog sandbox: the shared contract on API keys, then Datadog's own:
// application keys (scopes, last_used_at), last use of API keys from the Audit Trail, X-RateLimit-Reset, errors.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DATADOG_API_KEY_PATTERN,
  DATADOG_APPLICATION_KEY_PATTERN,
} from '../../sandbox/providers/datadog/datadog-key-format.js';
import type { DatadogAuditEvent, DatadogSandbox } from '../../sandbox/providers/datadog/datadog-sandbox.js';
import { SecretValue } from '../../secrets/secret-value.js';
import { describeProviderContract, expectFreeOfSecret } from '../test-support/provider-contract.js';
import { startProviderSandbox } from '../test-support/provider-sandbox.js';
import { DatadogProvider } from './datadog-provider.js';
import type { DatadogOptionsInput } from './datadog-schemas.js';

async function startDatadog() {
  const started = await startProviderSandbox<DatadogSandbox, DatadogProvider>({
    name: 'datadog',
    adapter: (options, context) => new DatadogProvider(options, context),
    sandboxSettings: { org: 'acme' },
    prepare: (sandbox) => {
      sandbox.load({
        people: [{ email: 'ana@example.com', name: 'Ana', login: 'ana', status: 'active' }],
        keys: [
          {
            provider: 'datadog',
            kind: 'api-key',
            account: 'acme',
            providerKeyId: '3f1c9a52-1111-4222-a333-444455556666',
            secret: 'a'.repeat(32),
            name: 'agent-prod',
            createdAt: '2025-01-01T00:00:00Z',
            lastUsedAt: '2025-06-01T00:00:00Z',
            status: 'active',
            createdBy: 'ana@example.com',
            permissions: [],
          },
        ],
      });
    },
  });
  return { ...started, make: (overrides: Partial<DatadogOptionsInput> = {}) => started.make(overrides) };
}

describeProviderContract('datadog', async () => {
  const datadog = await startDatadog();
  return {
    provider: datadog.make(),
    sandbox: datadog.control,
    sleeps: datadog.sleeps,
    createRequest: async () => ({ name: `contract-${randomBytes(3).toString('hex')}` }),
    // 32 characters like an API key, but not hex-only: a canary that cannot collide with a real key.
    unknownSecret: () => ({ secret: `ddCANARY${randomBytes(12).toString('hex')}` }),
    providerWithBadCredentials: () => datadog.make({ apiKey: '0'.repeat(32), applicationKey: '0'.repeat(40) }),
    adapterSecret: datadog.sandbox.adminApplicationKey,
    operations: {
      list: 'datadog:GET /api/v2/api_keys',
      verify: 'datadog:GET /api/v1/validate',
      create: 'datadog:POST /api/v2/api_keys',
    },
    close: datadog.close,
  };
});

describe('Datadog adapter specifics', () => {
  let datadog: Awaited<ReturnType<typeof startDatadog>>;
  beforeAll(async () => {
    datadog = await startDatadog();
  });
  afterAll(async () => {
    await datadog.close();
  });

  it('verifies a key without credentials of its own (a scanner has none); other calls name the option', async () => {
    const created = await datadog.make().create({ name: 'leaked' });
    const bare = datadog.make({ apiKey: undefined, applicationKey: undefined });
    expect((await bare.verify(created.secret)).valid).toBe(true);
    await expect(bare.list()[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: 'E_PROVIDER_AUTH',
      message: expect.stringMatching(/needs the `/),
    });
  });

  it('creates keys in the real formats, API keys by default and scoped application keys on request', async () => {
    const provider = datadog.make();
    const apiKey = await provider.create({ name: 'agent' });
    expect(apiKey.secret.reveal()).toMatch(DATADOG_API_KEY_PATTERN);
    const appKey = await provider.create({
      name: 'terraform',
      permissions: ['dashboards_read'],
      options: { kind: 'application-key' },
    });
    expect(appKey.secret.reveal()).toMatch(DATADOG_APPLICATION_KEY_PATTERN);
    const listed = [];
    for await (const key of provider.list()) listed.push(key);
    expect(listed.find((key) => key.providerKeyId === appKey.providerKeyId)?.permissions).toEqual(['dashboards_read']);
    expect(listed.map((key) => key.providerKeyId)).toEqual(
      expect.arrayContaining([apiKey.providerKeyId, appKey.providerKeyId, '3f1c9a52-1111-4222-a333-444455556666']),
    );
    for (const key of listed) {
      expectFreeOfSecret(key, apiKey.secret.reveal());
      expectFreeOfSecret(key, appKey.secret.reveal());
    }
  });

  it('verifies an application key, names its owner, and moves its last_used_at', async () => {
    const provider = datadog.make();
    const appKey = await provider.create({ name: 'ci', options: { kind: 'application-key' } });
    expect((await provider.lastUsed(appKey)).at).toBeNull();
    const verified = await provider.verify(appKey.secret);
    expect(verified).toMatchObject({ valid: true, providerKeyId: appKey.providerKeyId });
    expect(verified.identity).toMatch(/^user:/);
    // A fresh adapter does not know the kind of the id: it finds it.
    expect((await datadog.make().lastUsed({ providerKeyId: appKey.providerKeyId })).at).toBeInstanceOf(Date);
    await provider.revoke({ providerKeyId: appKey.providerKeyId });
    expect((await provider.verify(appKey.secret)).valid).toBe(false);
    expect((await provider.verify(new SecretValue('f'.repeat(40)))).valid).toBe(false);
  });

  it("reads an API key's last use from the Audit Trail, with the caller's address", async () => {
    const provider = datadog.make();
    const seeded = await provider.lastUsed({ providerKeyId: '3f1c9a52-1111-4222-a333-444455556666' });
    expect(seeded).toEqual({ at: new Date('2025-06-01T00:00:00Z'), sourceIp: '203.0.113.10' });
    expect((await provider.verify(new SecretValue('a'.repeat(32)))).valid).toBe(true);
    const moved = await provider.lastUsed({ providerKeyId: '3f1c9a52-1111-4222-a333-444455556666' });
    expect(moved.at!.getTime()).toBeGreaterThan(Date.parse('2025-06-01T00:00:00Z'));
    expect(moved.sourceIp).toBe('127.0.0.1');
  });

  it('writes Audit Trail events that name keys by id, never by value', async () => {
    const provider = datadog.make();
    const key = await provider.create({ name: 'audited' });
    await provider.verify(key.secret);
    await provider.revoke(key);
    const events = await datadog.control.auditLog<DatadogAuditEvent[]>();
    const actions = events
      .filter((event) => event.attributes.attributes.asset?.id === key.providerKeyId)
      .map((event) => event.attributes.attributes.action);
    expect(actions).toEqual(['created', 'deleted']);
    expect(events.some((event) => event.attributes.attributes.metadata.api_key?.id === key.providerKeyId)).toBe(true);
    expect(JSON.stringify(events)).not.toContain(key.secret.reveal());
  });

  it('waits for X-RateLimit-Reset: Datadog sends no Retry-After', async () => {
    const provider = datadog.make();
    const before = datadog.sleeps.length;
    await datadog.control.addFault({
      operation: 'datadog:GET /api/v2/api_keys',
      kind: 'rate-limit',
      retryAfterSeconds: 3,
    });
    for await (const _ of provider.list()) break;
    expect(datadog.sleeps.slice(before).some((ms) => ms >= 3000)).toBe(true);
  });

  it('keeps X-RateLimit-Reset from the answer (the SDK error drops headers): a reset beyond the budget is surfaced', async () => {
    const provider = datadog.make({ retry: { maxAttempts: 4, baseDelayMs: 10, budgetMs: 1_000 } });
    await datadog.control.addFault({
      operation: 'datadog:POST /api/v2/api_keys',
      kind: 'rate-limit',
      retryAfterSeconds: 30,
    });
    await expect(provider.create({ name: 'throttled' })).rejects.toMatchObject({
      code: 'E_PROVIDER_RATE_LIMITED',
      status: 429,
      retryAfterSeconds: 30,
      message: 'datadog: Too many requests',
    });
  });

  it('accepts a base URL written with a trailing slash', async () => {
    const provider = datadog.make({ baseUrl: `${datadog.server.url}/` });
    const listed = [];
    for await (const key of provider.list()) listed.push(key.providerKeyId);
    expect(listed).toContain('3f1c9a52-1111-4222-a333-444455556666');
  });

  it("surfaces Datadog's own messages", async () => {
    const provider = datadog.make();
    await expect(provider.lastUsed({ providerKeyId: 'nope' })).resolves.toEqual({ at: null });
    await expect(provider.create({ name: 'x', options: { kind: 'service-key' } })).rejects.toMatchObject({
      code: 'E_PROVIDER_INVALID_REQUEST',
    });
    await expect(datadog.make({ applicationKey: '1'.repeat(40) }).create({ name: 'x' })).rejects.toMatchObject({
      code: 'E_PROVIDER_AUTH',
      status: 403,
      message: 'datadog: Forbidden',
    });
  });
});
