// The Vault KV source against the Vault sandbox over real HTTP: folders walked, metadata read, values never asked
// for (the sandbox counts requests per operation), a refused token reported with Vault's own reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVaultSandbox, type VaultSandbox } from '../../sandbox/vault/vault-sandbox.js';
import { observeAll } from '../test-support/discovery-source-harness.js';
import { vaultKvDiscoverySource } from './vault-kv-discovery-source.js';

let vault: VaultSandbox;
const TOKEN = 'hvs.discovery-test-root';

beforeAll(async () => {
  vault = await startVaultSandbox({ rootToken: TOKEN });
  for (const [path, owner] of [
    ['payments/stripe-live', 'payments'],
    ['payments/eu/adyen', undefined],
    ['ml/openai', 'ml'],
  ] as const) {
    const headers = { 'x-vault-token': TOKEN, 'content-type': 'application/json' };
    await fetch(`${vault.url}/v1/secret/data/${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ data: { value: 'CANARY-vault-value' } }),
    });
    if (owner)
      await fetch(`${vault.url}/v1/secret/metadata/${path}`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ custom_metadata: { owner } }),
      });
  }
});
afterAll(() => vault.close());

describe('vault-kv discovery source', () => {
  it('walks every folder of the mount and reports each path with its metadata', async () => {
    const seen = await observeAll(vaultKvDiscoverySource, { url: vault.url }, {}, { VAULT_TOKEN: TOKEN });
    expect(seen.map((o) => o.name)).toEqual(['ml/openai', 'payments/stripe-live', 'payments/eu/adyen']);
    for (const o of seen) {
      expect(o.location).toBe('secret');
      expect(o.storePath).toBe(o.name);
      expect(o.createdAt).toMatch(/^\d{4}-/);
      expect(JSON.stringify(o)).not.toContain('CANARY-vault-value');
    }
    expect(seen[0]!.detail).toEqual({ current_version: 1, owner: 'ml' });
    expect(seen[2]!.detail).toEqual({ current_version: 1 });
  });

  it('walks only the folder asked for, and lists nothing for an empty one', async () => {
    const seen = await observeAll(
      vaultKvDiscoverySource,
      { url: vault.url, path: 'payments/eu' },
      {},
      { VAULT_TOKEN: TOKEN },
    );
    expect(seen.map((o) => o.name)).toEqual(['payments/eu/adyen']);
    expect(
      await observeAll(vaultKvDiscoverySource, { url: vault.url, path: 'none' }, {}, { VAULT_TOKEN: TOKEN }),
    ).toEqual([]);
  });

  it("fails with Vault's reason on a bad token, without the token in the message", async () => {
    const failure = observeAll(
      vaultKvDiscoverySource,
      { url: vault.url, 'token-env': 'MY_VAULT' },
      {},
      { MY_VAULT: 'hvs.wrong-token' },
    );
    await expect(failure).rejects.toThrow(/403.*permission denied/);
    await expect(failure).rejects.not.toThrow(/hvs\.wrong-token/);
    await expect(observeAll(vaultKvDiscoverySource, { url: vault.url }, {}, {})).rejects.toThrow(/set VAULT_TOKEN/);
  });
});
