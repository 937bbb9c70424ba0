// The table builds each store from its name and options (filled from the environment as the store's own tools
// do), and refuses unknown names and bad options without echoing credentials.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OperationalStore, openOperationalStore } from '../db/operational-store.js';
import {
  type StartedAwsSecretsManagerSandbox,
  startAwsSecretsManagerSandbox,
} from '../sandbox/aws-secrets-manager/aws-secrets-manager-sandbox.js';
import { startVaultSandbox, type VaultSandbox } from '../sandbox/vault/vault-sandbox.js';
import { createSecretStore, secretStoreKinds } from './secret-store-table.js';
import { SecretValue } from './secret-value.js';
import { canaryValue, expectErrorFreeOf } from './test-support/secret-store-contract.js';

let dir: string;
let operational: OperationalStore;
let vault: VaultSandbox;
let aws: StartedAwsSecretsManagerSandbox;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keyledger-table-'));
  operational = await openOperationalStore({ dataDir: dir });
  vault = await startVaultSandbox();
  aws = await startAwsSecretsManagerSandbox();
});
afterAll(async () => {
  await operational.close();
  await vault.close();
  await aws.close();
  await rm(dir, { recursive: true, force: true });
});

async function roundTrip(kind: string, options: unknown, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const store = createSecretStore(kind, options, {
    env: { KEYLEDGER_DATA_DIR: dir, ...env },
    cwd: dir,
    operationalDb: operational.db,
  });
  expect(store.kind).toBe(kind);
  const path = `table/${randomBytes(4).toString('hex')}`;
  const value = canaryValue();
  await store.put(path, new SecretValue(value), { stage: 'current' });
  expect((await store.get(path))?.value.reveal()).toBe(value);
  (store as { close?: () => void }).close?.();
}

describe('secret store table', () => {
  it('registers the three stores by name', () => {
    expect(secretStoreKinds()).toEqual(['embedded', 'vault', 'aws-secrets-manager']);
  });

  it('builds each store from its options', async () => {
    await roundTrip('embedded', {});
    await roundTrip('vault', { address: vault.url, auth: { method: 'token', token: vault.rootToken } });
    await roundTrip('aws-secrets-manager', {
      region: aws.region,
      endpoint: aws.url,
      credentials: { ...aws.credentials },
    });
  });

  it("fills options from the store's usual environment variables", async () => {
    await roundTrip('vault', {}, { VAULT_ADDR: vault.url, VAULT_TOKEN: vault.rootToken });
    await roundTrip(
      'aws-secrets-manager',
      { endpoint: aws.url, credentials: { ...aws.credentials } },
      { AWS_REGION: aws.region },
    );
  });

  it('refuses an unknown kind and invalid options, naming the field but not the credential', () => {
    expect(() => createSecretStore('keepass', {}, { env: {}, cwd: dir })).toThrow(
      /unknown secret store "keepass"; known: embedded, vault, aws-secrets-manager/,
    );
    const token = `hvs.${randomBytes(10).toString('hex')}`;
    let error: unknown;
    try {
      createSecretStore(
        'vault',
        { address: 'not a url', auth: { method: 'token', token }, extra: token },
        { env: {}, cwd: dir },
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'E_SECRET_STORE_CONFIG' });
    expect((error as Error).message).toMatch(/address/);
    expectErrorFreeOf(error, token);
    expect(() => createSecretStore('embedded', {}, { env: {}, cwd: dir })).toThrow(/needs the operational store/);
  });
});
