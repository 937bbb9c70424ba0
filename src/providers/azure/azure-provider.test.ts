// The Entra ID adapter against the Azure sandbox: the shared contract on application passwords, then Entra's
// own: endDateTime, the AADSTS answers of the token endpoint, sign-in logs naming the credential's keyId, revoking
// a password the application no longer holds, and paging through applications.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderError } from '../../errors/provider-error.js';
import { AZURE_CLIENT_SECRET_PATTERN } from '../../sandbox/providers/azure/azure-key-format.js';
import type { AzureSandbox, AzureSignIn } from '../../sandbox/providers/azure/azure-sandbox.js';
import { SecretValue } from '../../secrets/secret-value.js';
import { describeProviderContract } from '../test-support/provider-contract.js';
import { startProviderSandbox } from '../test-support/provider-sandbox.js';
import { AzureProvider } from './azure-provider.js';
import type { AzureOptionsInput } from './azure-schemas.js';

const APP = '0f6a1a51-2b1c-4d6e-9f00-1234567890ab';

async function startAzure() {
  const azure = await startProviderSandbox<AzureSandbox, AzureProvider>({
    name: 'azure',
    adapter: (options, context) => new AzureProvider(options, context),
    prepare: (sandbox) => sandbox.addApplication('payments-api', APP),
  });
  return { ...azure, make: (overrides: Partial<AzureOptionsInput> = {}) => azure.make(overrides) };
}

describeProviderContract('azure', async () => {
  const azure = await startAzure();
  return {
    provider: azure.make(),
    sandbox: azure.control,
    sleeps: azure.sleeps,
    createRequest: async () => ({ name: `contract-${randomBytes(3).toString('hex')}`, account: APP }),
    unknownSecret: () => ({
      secret: `abc8Q~CANARY${randomBytes(14).toString('hex')}`,
      ref: { providerKeyId: '00000000-0000-4000-8000-000000000000', account: APP },
    }),
    providerWithBadCredentials: () => azure.make({ clientSecret: `xyz8Q~${'0'.repeat(34)}` }),
    adapterSecret: azure.sandbox.adminClientSecret,
    operations: {
      list: 'azure:GET /applications',
      verify: 'azure:POST /oauth2/v2.0/token',
      create: 'azure:POST /applications/{id}/addPassword',
    },
    close: azure.close,
  };
});

describe('Entra ID adapter specifics', () => {
  let azure: Awaited<ReturnType<typeof startAzure>>;
  beforeAll(async () => {
    azure = await startAzure();
  });
  afterAll(async () => {
    await azure.close();
  });

  it('verifies a key without credentials of its own (a scanner has none); other calls name the option', async () => {
    const created = await azure.make().create({ name: 'leaked', account: APP });
    const bare = azure.make({ clientId: undefined, clientSecret: undefined });
    expect((await bare.verify(created.secret, created)).valid).toBe(true);
    await expect(bare.revoke(created)).rejects.toMatchObject({
      code: 'E_PROVIDER_AUTH',
      message: expect.stringMatching(/needs the `/),
    });
  });

  it('adds a password with an endDateTime in the 8Q~ format, shown once and hinted in the list', async () => {
    const provider = azure.make();
    const end = new Date(Date.now() + 90 * 86_400_000);
    const created = await provider.create({ name: 'prod', account: APP, expiresAt: end });
    expect(created.secret.reveal()).toMatch(AZURE_CLIENT_SECRET_PATTERN);
    expect(created.expiresAt?.getTime()).toBe(Math.floor(end.getTime() / 1000) * 1000);
    const listed = [];
    for await (const key of provider.list({ account: APP })) listed.push(key);
    expect(listed.find((key) => key.providerKeyId === created.providerKeyId)).toMatchObject({
      name: 'prod',
      status: 'active',
      expiresAt: created.expiresAt,
    });
    expect(JSON.stringify(listed)).not.toContain(created.secret.reveal());
  });

  it("reports the token endpoint's AADSTS code and message, without trace ids or the secret", async () => {
    const provider = azure.make();
    const unknown = await provider.verify(new SecretValue(`abc8Q~${'x'.repeat(34)}`), {
      providerKeyId: 'k',
      account: APP,
    });
    expect(unknown.valid).toBe(false);
    expect(unknown.reason).toMatch(/^AADSTS7000215: Invalid client secret provided\./);
    expect(unknown.reason).not.toMatch(/Trace ID/);
    const noApp = await provider.verify(new SecretValue(`abc8Q~${'x'.repeat(34)}`), {
      providerKeyId: 'k',
      account: 'nope',
    });
    expect(noApp.reason).toMatch(/^AADSTS700016:/);
    await expect(provider.verify(new SecretValue('s'.repeat(40)))).rejects.toMatchObject({
      code: 'E_PROVIDER_INVALID_REQUEST',
    });
  });

  it('reads last use from service-principal sign-ins naming servicePrincipalCredentialKeyId', async () => {
    const provider = azure.make();
    const created = await provider.create({ name: 'signin', account: APP });
    expect(await provider.lastUsed(created)).toEqual({ at: null });
    await provider.verify(created.secret, created);
    const used = await provider.lastUsed(created);
    expect(used.at).toBeInstanceOf(Date);
    expect(used.sourceIp).toBe('127.0.0.1');
    const signIns = await azure.control.auditLog<AzureSignIn[]>();
    expect(signIns.at(-1)).toMatchObject({
      appId: APP,
      servicePrincipalCredentialKeyId: created.providerKeyId,
      signInEventTypes: ['servicePrincipal'],
      status: { errorCode: 0 },
    });
  });

  it('needs Application.ReadWrite: another application gets Authorization_RequestDenied', async () => {
    const created = await azure.make().create({ name: 'not-admin', account: APP });
    const asApp = azure.make({ clientId: APP, clientSecret: created.secret });
    await expect(asApp.create({ name: 'x', account: APP })).rejects.toMatchObject({
      code: 'E_PROVIDER_AUTH',
      status: 403,
      providerCode: 'Authorization_RequestDenied',
    });
    await expect(azure.make().create({ name: 'x', account: 'missing-app' })).rejects.toMatchObject({
      code: 'E_PROVIDER_NOT_FOUND',
      providerCode: 'Request_ResourceNotFound',
    });
  });

  it("maps the Graph SDK's failures without an answer: a timeout, a dropped socket, a create that timed out", async () => {
    const provider = azure.make({ retry: { maxAttempts: 2, baseDelayMs: 10, budgetMs: 120_000 } });
    await azure.control.addFault({
      operation: 'azure:GET /applications/{id}',
      kind: 'timeout',
      delayMs: 2_000,
      times: -1,
    });
    await expect(provider.revoke({ providerKeyId: 'k', account: APP })).rejects.toMatchObject({
      code: 'E_PROVIDER_TIMEOUT',
      retryable: true,
    });
    await azure.control.clearFaults();
    await azure.control.addFault({ operation: 'azure:GET /applications/{id}', kind: 'drop', times: -1 });
    const dropped = await provider.revoke({ providerKeyId: 'k', account: APP }).catch((error: unknown) => error);
    expect(dropped).toMatchObject({ code: 'E_PROVIDER_UNAVAILABLE', retryable: true, status: undefined });
    // Named by the socket failure, not by the SDK's wrapper (GraphError keeps only the name of what was thrown).
    expect((dropped as ProviderError).providerCode).not.toBe('TypeError');
    expect((dropped as ProviderError).message).toMatch(/connection failed/);
    await azure.control.clearFaults();
    await azure.control.addFault({
      operation: 'azure:POST /applications/{id}/addPassword',
      kind: 'timeout',
      delayMs: 2_000,
      times: -1,
    });
    await expect(provider.create({ name: 'lost', account: APP })).rejects.toMatchObject({
      code: 'E_PROVIDER_TIMEOUT',
      retryable: false,
      message: expect.stringMatching(/reconcile/),
    });
    await azure.control.clearFaults();
  });

  it('pages through applications by @odata.nextLink', async () => {
    const provider = azure.make();
    for (let i = 0; i < 105; i++) azure.sandbox.addApplication(`bulk-${i}`);
    const bulkApp = azure.sandbox.addApplication('bulk-with-password');
    await provider.create({ name: 'bulk', account: bulkApp.appId });
    const accounts = new Set<string>();
    for await (const key of provider.list()) accounts.add(key.account!);
    expect(accounts.has(bulkApp.appId)).toBe(true);
  });
});
