// The HashiCorp Vault store: KV version 2 over Vault's HTTP API, with token (given or from a file) or AppRole auth.
import { resolve } from 'node:path';
import { type SecretStoreDefinition, storeDataDir } from '../secret-store-definition.js';
import { vaultSecretStoreOptionsSchema } from './vault-schemas.js';
import { VaultSecretStore } from './vault-secret-store.js';

export * from './vault-schemas.js';
export { VaultSecretStore } from './vault-secret-store.js';

export const vaultSecretStoreDefinition: SecretStoreDefinition<typeof vaultSecretStoreOptionsSchema> = {
  kind: 'vault',
  description: 'HashiCorp Vault KV version 2, stages as version pointers in custom_metadata',
  optionsSchema: vaultSecretStoreOptionsSchema,
  defaultsFromEnv(env) {
    const defaults: Record<string, unknown> = {};
    if (env.VAULT_ADDR) defaults.address = env.VAULT_ADDR;
    if (env.VAULT_NAMESPACE) defaults.namespace = env.VAULT_NAMESPACE;
    if (env.VAULT_TOKEN) defaults.auth = { method: 'token', token: env.VAULT_TOKEN };
    else if (env.VAULT_ROLE_ID && env.VAULT_SECRET_ID)
      defaults.auth = { method: 'approle', roleId: env.VAULT_ROLE_ID, secretId: env.VAULT_SECRET_ID };
    return defaults;
  },
  create: (options, context) => {
    // A token file named relative to nothing in particular is the data folder's (where keyledger keeps local state).
    const auth =
      options.auth.method === 'token-file'
        ? {
            ...options.auth,
            path: resolve(storeDataDir(context), options.auth.path),
          }
        : options.auth;
    return new VaultSecretStore({ ...options, auth }, context.clock ? { clock: context.clock } : {});
  },
};
