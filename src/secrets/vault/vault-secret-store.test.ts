// The Vault store against the Vault sandbox over real HTTP: the shared contract with token auth and with AppRole
// in a namespace, then what is Vault's own — the layout in KV, re-login on a refused token, typed errors.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxControlClient } from '../../sandbox/sandbox-control-client.js';
import { startVaultSandbox, type VaultSandbox } from '../../sandbox/vault/vault-sandbox.js';
import { SecretValue } from '../secret-value.js';
import { canaryValue, describeSecretStoreContract, expectErrorFreeOf } from '../test-support/secret-store-contract.js';
import { vaultSecretStoreDefinition } from './index.js';
import { type VaultSecretStoreOptionsInput, vaultSecretStoreOptionsSchema } from './vault-schemas.js';
import { VaultSecretStore } from './vault-secret-store.js';

let vault: VaultSandbox;
const approle = {
  roleId: 'keyledger-role',
  secretId: `sid-${randomBytes(8).toString('hex')}`,
  namespace: 'platform/payments',
};
beforeAll(async () => {
  vault = await startVaultSandbox({ approle });
});
afterAll(() => vault.close());

function storeWith(options: Partial<VaultSecretStoreOptionsInput> = {}): VaultSecretStore {
  return new VaultSecretStore(
    vaultSecretStoreOptionsSchema.parse({
      address: vault.url,
      auth: { method: 'token', token: vault.rootToken },
      ...options,
    }),
  );
}

const appRoleOptions = (): Partial<VaultSecretStoreOptionsInput> => ({
  namespace: approle.namespace,
  auth: { method: 'approle', roleId: approle.roleId, secretId: approle.secretId },
});

describeSecretStoreContract('vault (token)', () => storeWith({ pathPrefix: 'keyledger' }));
describeSecretStoreContract('vault (AppRole, namespace)', () => storeWith(appRoleOptions()));

async function raw(path: string, namespace?: string) {
  const response = await fetch(`${vault.url}/v1/${path}`, {
    headers: { 'x-vault-token': vault.rootToken, ...(namespace ? { 'x-vault-namespace': namespace } : {}) },
  });
  // biome-ignore lint/suspicious/noExplicitAny: Vault's JSON, read field by field by each expectation.
  return { status: response.status, body: (await response.json()) as any };
}

describe('vault store specifics', () => {
  it('checkWritable fails with the typed error when the token is refused, and writes nothing', async () => {
    const path = `preflight/${randomBytes(4).toString('hex')}`;
    const refused = storeWith({ pathPrefix: 'keyledger', auth: { method: 'token', token: 'not-a-token' } });
    await expect(refused.checkWritable(path)).rejects.toMatchObject({ code: 'E_SECRET_STORE_AUTH' });
    expect((await raw(`secret/metadata/keyledger/${path}.keyledger-preflight`)).status).toBe(404);
  });

  it('lays versions out as KV versions with stage pointers in custom_metadata', async () => {
    const store = storeWith({ pathPrefix: 'keyledger' });
    const path = `layout/${randomBytes(4).toString('hex')}`;
    const value = canaryValue();
    await store.put(path, new SecretValue(value), { stage: 'current', metadata: { providerKeyId: 'k1' } });
    await store.put(path, new SecretValue(canaryValue()), { stage: 'pending' });
    const metadata = await raw(`secret/metadata/keyledger/${path}`);
    expect(metadata.body.data.custom_metadata).toMatchObject({ keyledger_current: '1', keyledger_pending: '2' });
    expect(JSON.parse(metadata.body.data.custom_metadata.keyledger_v1)).toEqual({ m: { providerKeyId: 'k1' } });
    const data = await raw(`secret/data/keyledger/${path}?version=1`);
    expect(data.body.data.data.value).toBe(value);
    expect(JSON.stringify(metadata.body)).not.toContain(value);
  });

  it('keeps custom_metadata that is not its own', async () => {
    const store = storeWith();
    const path = `foreign/${randomBytes(4).toString('hex')}`;
    await fetch(`${vault.url}/v1/secret/metadata/${path}`, {
      method: 'POST',
      headers: { 'x-vault-token': vault.rootToken, 'content-type': 'application/json' },
      body: JSON.stringify({ custom_metadata: { owner: 'payments' } }),
    });
    await store.put(path, new SecretValue(canaryValue()), { stage: 'current' });
    await store.put(path, new SecretValue(canaryValue()), { stage: 'pending' });
    await store.promote(path);
    expect((await raw(`secret/metadata/${path}`)).body.data.custom_metadata.owner).toBe('payments');
  });

  it('destroys the data of a discarded pending version', async () => {
    const store = storeWith();
    const path = `discard/${randomBytes(4).toString('hex')}`;
    await store.put(path, new SecretValue(canaryValue()), { stage: 'current' });
    await store.put(path, new SecretValue(canaryValue()), { stage: 'pending' });
    await store.discardPending(path);
    const read = await raw(`secret/data/${path}?version=2`);
    expect(read.status).toBe(404);
    expect(read.body.data.metadata.destroyed).toBe(true);
  });

  it('logs in again with AppRole when Vault refuses an expired token', async () => {
    const store = storeWith(appRoleOptions());
    const path = `renew/${randomBytes(4).toString('hex')}`;
    const value = canaryValue();
    await store.put(path, new SecretValue(value), { stage: 'current' });
    const logins = () => vault.requestCounts()['vault:POST auth/approle/login'] ?? 0;
    const before = logins();
    vault.expireTokens();
    expect((await store.get(path))?.value.reveal()).toBe(value);
    expect(logins()).toBe(before + 1);
  });

  it('fails with E_SECRET_STORE_AUTH carrying Vault errors for a bad token or bad AppRole credentials', async () => {
    const badToken = `hvs.bad${randomBytes(6).toString('hex')}`;
    const error = await storeWith({ auth: { method: 'token', token: badToken } })
      .get('any/path')
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'E_SECRET_STORE_AUTH', status: 403, storeMessages: ['permission denied'] });
    expectErrorFreeOf(error, badToken);
    const badSecretId = `wrong-${randomBytes(6).toString('hex')}`;
    const login = await storeWith({
      ...appRoleOptions(),
      auth: { method: 'approle', roleId: approle.roleId, secretId: badSecretId },
    })
      .exists('any/path')
      .catch((caught: unknown) => caught);
    expect(login).toMatchObject({ code: 'E_SECRET_STORE_AUTH', storeMessages: ['invalid role or secret ID'] });
    expectErrorFreeOf(login, badSecretId);
  });

  it('sends a read again when its connection is dropped, but not a write (it may have been applied)', async () => {
    const store = storeWith();
    const control = new SandboxControlClient(vault.url);
    const path = `dropped/${randomBytes(4).toString('hex')}`;
    await store.put(path, new SecretValue('v1'), { stage: 'current' });
    await control.call('POST', 'faults', { operation: 'vault:GET secret/metadata', kind: 'drop', times: 1 });
    expect((await store.get(path))?.value.reveal()).toBe('v1');
    await control.call('POST', 'faults', { operation: 'vault:POST secret/data', kind: 'drop', times: 1 });
    await expect(store.put(path, new SecretValue('v2'), { stage: 'pending' })).rejects.toMatchObject({
      code: 'E_SECRET_STORE_UNAVAILABLE',
    });
    await control.call('DELETE', 'faults');
  });

  it('reads a token file relative to the data folder, and reads it again after Vault refuses the token', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'keyledger-vault-token-'));
    try {
      const badToken = `hvs.stale${randomBytes(6).toString('hex')}`;
      await writeFile(join(dataDir, 'vault-token'), `${badToken}\n`, { mode: 0o600 });
      const store = vaultSecretStoreDefinition.create(
        vaultSecretStoreOptionsSchema.parse({
          address: vault.url,
          auth: { method: 'token-file', path: 'vault-token' },
        }),
        { env: {}, cwd: '/nonexistent', dataDir },
      );
      const refused = await store.exists('token-file/probe').catch((caught: unknown) => caught);
      expect(refused).toMatchObject({ code: 'E_SECRET_STORE_AUTH', status: 403 });
      expectErrorFreeOf(refused, badToken);
      // The token is renewed in the file (as Vault Agent does): the next call is refused once, re-reads, succeeds.
      await writeFile(join(dataDir, 'vault-token'), vault.rootToken);
      const path = `token-file/${randomBytes(4).toString('hex')}`;
      await store.put(path, new SecretValue('v'), { stage: 'current' });
      expect((await store.get(path))?.value.reveal()).toBe('v');
      const missing = vaultSecretStoreDefinition.create(
        vaultSecretStoreOptionsSchema.parse({ address: vault.url, auth: { method: 'token-file', path: 'nope' } }),
        { env: {}, cwd: '/', dataDir },
      );
      await expect(missing.get(path)).rejects.toMatchObject({
        code: 'E_SECRET_STORE_AUTH',
        message: expect.stringContaining(join(dataDir, 'nope')),
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses metadata beyond what custom_metadata can hold, before writing anything', async () => {
    const store = storeWith();
    const path = `big/${randomBytes(4).toString('hex')}`;
    await expect(
      store.put(path, new SecretValue(canaryValue()), { stage: 'current', metadata: { note: 'x'.repeat(600) } }),
    ).rejects.toMatchObject({
      code: 'E_SECRET_STORE_INVALID_REQUEST',
    });
    expect(await store.versions(path)).toEqual([]);
  });

  it('redacts the token and the value when Vault echoes them, and marks a sealed Vault retryable', async () => {
    const token = vault.rootToken;
    const store = storeWith();
    const path = `echo/${randomBytes(4).toString('hex')}`;
    const value = canaryValue('echo');
    vault.server.faults.add({ operation: 'vault:POST secret/data', kind: 'status', status: 500, echoSecret: true });
    const error = await store
      .put(path, new SecretValue(value), { stage: 'current' })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'E_SECRET_STORE_UNAVAILABLE', status: 500 });
    expect((error as Error).message).toContain('[REDACTED]');
    expectErrorFreeOf(error, token);
    expectErrorFreeOf(error, value);
    vault.server.faults.add({ operation: 'vault:GET secret/metadata', kind: 'status', status: 503 });
    await expect(store.get(path)).rejects.toMatchObject({
      code: 'E_SECRET_STORE_UNAVAILABLE',
      retryable: true,
      storeMessages: ['Vault is sealed'],
    });
  });

  it('answers E_SECRET_STORE_UNAVAILABLE when Vault cannot be reached', async () => {
    const closed = await startVaultSandbox();
    const url = closed.url;
    await closed.close();
    const store = new VaultSecretStore(
      vaultSecretStoreOptionsSchema.parse({ address: url, auth: { method: 'token', token: 'x' } }),
    );
    await expect(store.get('some/path')).rejects.toMatchObject({ code: 'E_SECRET_STORE_UNAVAILABLE', retryable: true });
  });

  it('loses no stage when two processes change one path at once', async () => {
    // Two store instances stand for two processes: nothing in-process serialises them, only the Vault lock.
    // A pending put and a current put touch different stages, so every interleaving must end the same way.
    const [first, second] = [storeWith(), storeWith()];
    for (let round = 0; round < 4; round += 1) {
      const path = `two-writers/${randomBytes(4).toString('hex')}`;
      const base = await first.put(path, new SecretValue(canaryValue()), { stage: 'current' });
      // A slow pointer write widens the window in which an unlocked writer would read stale pointers.
      vault.server.faults.add({ operation: 'vault:POST secret/metadata', kind: 'slow', delayMs: 80 });
      const [pending, current] = await Promise.all([
        first.put(path, new SecretValue(canaryValue()), { stage: 'pending' }),
        second.put(path, new SecretValue(canaryValue()), { stage: 'current' }),
      ]);
      expect((await first.get(path, 'pending'))?.versionId).toBe(pending.versionId);
      expect((await first.get(path, 'current'))?.versionId).toBe(current.versionId);
      expect((await first.get(path, 'previous'))?.versionId).toBe(base.versionId);
    }
  });

  it('writes into the namespace it is given, apart from the root namespace', async () => {
    const store = storeWith(appRoleOptions());
    const path = `ns/${randomBytes(4).toString('hex')}`;
    await store.put(path, new SecretValue(canaryValue()), { stage: 'current' });
    expect((await raw(`secret/metadata/${path}`, approle.namespace)).status).toBe(200);
    expect((await raw(`secret/metadata/${path}`)).status).toBe(404);
  });
});
