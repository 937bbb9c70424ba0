// The GCP adapter against the GCP sandbox: the shared contract on service-account keys (with Google's limit of 10
// per account), then GCP's own: the key file, the JWT-bearer exchange, disable-then-delete, Policy Analyzer's last
// authentication, Cloud Audit Logs naming the caller's key, and RetryInfo.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateOrg } from '../../sandbox/org/org-generator.js';
import { orgSandboxSeed } from '../../sandbox/org/org-sandbox-seed.js';
import { GCP_KEY_ID_PATTERN } from '../../sandbox/providers/gcp/gcp-key-format.js';
import type { GcpAuditLogEntry, GcpSandbox } from '../../sandbox/providers/gcp/gcp-sandbox.js';
import { SecretValue } from '../../secrets/secret-value.js';
import { describeProviderContract } from '../test-support/provider-contract.js';
import { startProviderSandbox } from '../test-support/provider-sandbox.js';
import { GcpProvider } from './gcp-provider.js';
import type { GcpOptionsInput } from './gcp-schemas.js';

const PROJECT = 'acme-prod';
const WORKER = `worker@${PROJECT}.iam.gserviceaccount.com`;
/** A real RSA key Google never saw: signs well-formed assertions that the token endpoint must refuse. */
const STRANGER_PEM = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

function strangerKeyFile(label: string, email = WORKER): string {
  return JSON.stringify({
    type: 'service_account',
    project_id: PROJECT,
    private_key_id: label,
    private_key: STRANGER_PEM,
    client_email: email,
  });
}

async function startGcp() {
  const started = await startProviderSandbox<GcpSandbox, GcpProvider>({
    name: 'gcp',
    adapter: (options, context) => new GcpProvider(options, context),
    sandboxSettings: { projectId: PROJECT, serviceAccounts: ['worker'] },
    adapterOptions: {
      // Minting an RSA 2048 key takes Google (and the sandbox, on a busy 2-core machine) up to seconds.
      timeoutMs: 10_000,
    },
  });
  return { ...started, make: (overrides: Partial<GcpOptionsInput> = {}) => started.make(overrides) };
}

async function drain<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describeProviderContract('gcp', async () => {
  const gcp = await startGcp();
  const freshAccount = async () => {
    const { email } = await gcp.control.call<{ email: string }>('POST', 'service-accounts', {
      name: `svc-${randomBytes(4).toString('hex')}`,
    });
    return email;
  };
  return {
    provider: gcp.make(),
    sandbox: gcp.control,
    sleeps: gcp.sleeps,
    createRequest: async () => ({ name: `contract-${randomBytes(3).toString('hex')}`, account: await freshAccount() }),
    unknownSecret: () => ({ secret: strangerKeyFile(`CANARY${randomBytes(17).toString('hex')}`) }),
    providerWithBadCredentials: () =>
      gcp.make({ credentials: strangerKeyFile('0'.repeat(40), `keyledger-admin@${PROJECT}.iam.gserviceaccount.com`) }),
    adapterSecret: STRANGER_PEM,
    operations: {
      list: 'gcp:GET serviceAccounts.keys',
      verify: 'gcp:POST /token',
      create: 'gcp:POST serviceAccounts.keys',
    },
    limit: {
      request: async () => ({ name: 'limit', account: await freshAccount() }),
      keysAllowed: 10,
      providerCode: 'FAILED_PRECONDITION',
    },
    close: gcp.close,
  };
});

describe('GCP adapter specifics', () => {
  let gcp: Awaited<ReturnType<typeof startGcp>>;
  beforeAll(async () => {
    gcp = await startGcp();
  });
  afterAll(async () => {
    await gcp.close();
  });

  it('verifies a key without credentials of its own (a scanner has none); other calls name the option', async () => {
    const created = await gcp.make().create({ name: 'leaked', account: WORKER });
    const bare = gcp.make({ credentials: undefined });
    expect((await bare.verify(created.secret)).valid).toBe(true);
    await expect(bare.revoke(created)).rejects.toMatchObject({
      code: 'E_PROVIDER_AUTH',
      message: expect.stringMatching(/needs the `/),
    });
  });

  it('returns the JSON key file with a PEM private key, and proves it by the token exchange', async () => {
    const provider = gcp.make();
    const created = await provider.create({ name: 'ci', account: WORKER });
    expect(created.providerKeyId).toMatch(GCP_KEY_ID_PATTERN);
    const file = JSON.parse(created.secret.reveal()) as Record<string, string>;
    expect(file).toMatchObject({
      type: 'service_account',
      private_key_id: created.providerKeyId,
      client_email: WORKER,
    });
    expect(file.private_key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(await provider.verify(created.secret)).toEqual({
      valid: true,
      identity: WORKER,
      providerKeyId: created.providerKeyId,
    });
    expect(await provider.verify(new SecretValue('{"type":"authorized_user"}'))).toMatchObject({ valid: false });
  });

  it('revokes by disabling then deleting; the token endpoint refuses the key in Google’s words', async () => {
    const provider = gcp.make();
    const key = await provider.create({ name: 'old', account: WORKER });
    await provider.revoke(key);
    const refused = await provider.verify(key.secret);
    expect(refused).toMatchObject({ valid: false, reason: 'Invalid JWT Signature.' });
    const audit = await gcp.control.auditLog<GcpAuditLogEntry[]>();
    const methods = audit
      .filter(
        (entry) =>
          entry.protoPayload.request?.name === `projects/-/serviceAccounts/${WORKER}/keys/${key.providerKeyId}`,
      )
      .map((entry) => entry.protoPayload.methodName);
    expect(methods).toEqual([
      'google.iam.admin.v1.CreateServiceAccountKey',
      'google.iam.admin.v1.DisableServiceAccountKey',
      'google.iam.admin.v1.DeleteServiceAccountKey',
    ]);
    expect(audit[0]!.protoPayload.authenticationInfo.serviceAccountKeyName).toMatch(
      /^\/\/iam\.googleapis\.com\/projects\/acme-prod\/serviceAccounts\/keyledger-admin@acme-prod\.iam\.gserviceaccount\.com\/keys\/[0-9a-f]{40}$/,
    );
    expect(JSON.stringify(audit)).not.toContain('PRIVATE KEY');
  });

  it("reads last use from Policy Analyzer's serviceAccountKeyLastAuthentication", async () => {
    const provider = gcp.make();
    const key = await provider.create({ name: 'analyzer', account: WORKER });
    expect(await provider.lastUsed(key)).toEqual({ at: null });
    await provider.verify(key.secret);
    expect((await provider.lastUsed(key)).at).toBeInstanceOf(Date);
  });

  it('lists every service account of the project without an account, disabled keys as inactive', async () => {
    const provider = gcp.make();
    const key = await provider.create({ name: 'listed', account: WORKER });
    const listed = [];
    for await (const item of provider.list()) listed.push(item);
    expect(listed.find((item) => item.providerKeyId === key.providerKeyId)).toMatchObject({
      account: WORKER,
      status: 'active',
    });
    await expect(provider.create({ name: 'x', account: 'worker' })).rejects.toMatchObject({
      code: 'E_PROVIDER_INVALID_REQUEST',
    });
    await expect(
      provider.create({ name: 'x', account: `ghost@${PROJECT}.iam.gserviceaccount.com` }),
    ).rejects.toMatchObject({ code: 'E_PROVIDER_AUTH', status: 403, providerCode: 'PERMISSION_DENIED' });
  });

  it("gives each listed key its service account's roles from the project's IAM policy, read once per listing", async () => {
    const owner = await gcp.control.call<{ email: string }>('POST', 'service-accounts', {
      name: `owner-${randomBytes(4).toString('hex')}`,
      roles: ['roles/owner', 'roles/storage.objectViewer'],
    });
    const plain = await gcp.control.call<{ email: string }>('POST', 'service-accounts', {
      name: `plain-${randomBytes(4).toString('hex')}`,
    });
    const provider = gcp.make();
    const first = await provider.create({ name: 'owner-1', account: owner.email });
    const second = await provider.create({ name: 'owner-2', account: owner.email });
    const plainKey = await provider.create({ name: 'plain', account: plain.email });
    const count = async () => (await gcp.control.requestCounts())['gcp:POST projects:getIamPolicy'] ?? 0;
    const before = await count();
    const listed = new Map((await drain(provider.list())).map((key) => [key.providerKeyId, key.permissions]));
    expect(listed.get(first.providerKeyId)).toEqual(['roles/owner', 'roles/storage.objectViewer']);
    expect(listed.get(second.providerKeyId)).toEqual(['roles/owner', 'roles/storage.objectViewer']);
    // Read, and bound to no role: an empty list, not an absent one.
    expect(listed.get(plainKey.providerKeyId)).toEqual([]);
    expect((await count()) - before).toBe(1);
    // One account's listing reads the policy of its project too.
    const [own] = await drain(provider.list({ account: owner.email }));
    expect(own?.permissions).toEqual(['roles/owner', 'roles/storage.objectViewer']);
    expect((await count()) - before).toBe(2);
  });

  it('lists keys without permissions when the IAM policy is refused (PERMISSION_DENIED), the listing whole', async () => {
    // A key admin that may not read the project's policy (no roles/iam.securityReviewer).
    const { email } = await gcp.control.call<{ email: string }>('POST', 'service-accounts', {
      name: `keyadmin-${randomBytes(4).toString('hex')}`,
      roles: ['roles/iam.serviceAccountKeyAdmin'],
    });
    const admin = gcp.make();
    const credential = await admin.create({ name: 'narrow', account: email });
    const listedKey = await admin.create({ name: 'listed', account: WORKER });
    const narrow = gcp.make({ credentials: credential.secret.reveal() });
    const count = async () => (await gcp.control.requestCounts())['gcp:POST projects:getIamPolicy'] ?? 0;
    const before = await count();
    const keys = await drain(narrow.list());
    expect(keys.find((key) => key.providerKeyId === listedKey.providerKeyId)).toMatchObject({
      account: WORKER,
      status: 'active',
    });
    expect(keys.every((key) => !('permissions' in key))).toBe(true);
    // A 403 is not retried: one refused call.
    expect((await count()) - before).toBe(1);
  });

  it("verifies a generated organisation's key files, the same on every run", async () => {
    const org = generateOrg({ profile: 'small', seed: 5 });
    const again = generateOrg({ profile: 'small', seed: 5 });
    const keys = org.keys.filter((key) => key.provider === 'gcp');
    expect(keys.length).toBeGreaterThan(0);
    gcp.sandbox.load(orgSandboxSeed(org, new Set(['gcp'])));
    const provider = gcp.make();
    for (const key of keys) {
      expect(key.secret).toBe(again.keys.find((k) => k.keyId === key.keyId)!.secret);
      expect(await provider.verify(new SecretValue(key.secret))).toEqual({
        valid: true,
        identity: key.account,
        providerKeyId: key.providerKeyId,
      });
    }
  });

  it('makes one request per attempt: the SDK retries nothing, our policy retries the 5xx', async () => {
    const provider = gcp.make();
    await drain(provider.list({ account: WORKER }));
    const operation = 'gcp:GET serviceAccounts.keys';
    const before = (await gcp.control.requestCounts())[operation] ?? 0;
    await gcp.control.addFault({ operation, kind: 'status', status: 503, times: -1 });
    try {
      await expect(drain(provider.list({ account: WORKER }))).rejects.toMatchObject({
        code: 'E_PROVIDER_UNAVAILABLE',
        status: 503,
        providerCode: 'UNAVAILABLE',
        retryable: true,
      });
    } finally {
      await gcp.control.clearFaults();
    }
    // maxAttempts is 4 in startGcp().
    expect(((await gcp.control.requestCounts())[operation] ?? 0) - before).toBe(4);
  });

  it('gives each attempt timeoutMs: a list is retried, a create is reported for reconciling', async () => {
    const provider = gcp.make({ timeoutMs: 300 });
    const { email } = await gcp.control.call<{ email: string }>('POST', 'service-accounts', { name: 'timeouts' });
    await drain(provider.list({ account: email }));
    const sleeps = gcp.sleeps.length;
    const started = Date.now();
    try {
      await gcp.control.addFault({ operation: 'gcp:GET serviceAccounts.keys', kind: 'timeout', delayMs: 20_000 });
      await drain(provider.list({ account: email }));
      expect(gcp.sleeps.length).toBeGreaterThan(sleeps);
      const create = 'gcp:POST serviceAccounts.keys';
      const before = (await gcp.control.requestCounts())[create] ?? 0;
      await gcp.control.addFault({ operation: create, kind: 'timeout', delayMs: 20_000 });
      await expect(provider.create({ name: 'slow', account: email })).rejects.toMatchObject({
        code: 'E_PROVIDER_TIMEOUT',
        retryable: false,
        message: expect.stringMatching(/reconcile/),
      });
      expect(((await gcp.control.requestCounts())[create] ?? 0) - before).toBe(1);
    } finally {
      await gcp.control.clearFaults();
    }
    // The sandbox held both calls for 20 s: the SDK's timeout, not the sandbox, ended them.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('takes an IAM root written with a trailing slash', async () => {
    const provider = gcp.make({ baseUrl: `${gcp.url}/` });
    const created = await provider.create({ name: 'slash', account: WORKER });
    expect((await drain(provider.list({ account: WORKER }))).map((key) => key.providerKeyId)).toContain(
      created.providerKeyId,
    );
    await provider.revoke(created);
  });

  it("waits RetryInfo's retryDelay: Google sends no Retry-After", async () => {
    const provider = gcp.make();
    const before = gcp.sleeps.length;
    await gcp.control.addFault({ operation: 'gcp:GET serviceAccounts.keys', kind: 'rate-limit', retryAfterSeconds: 4 });
    for await (const _ of provider.list({ account: WORKER })) break;
    expect(gcp.sleeps.slice(before).some((ms) => ms >= 4000)).toBe(true);
  });
});
