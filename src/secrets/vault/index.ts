// The HashiCorp Vault store: KV version 2 over Vault's HTTP API, with token or AppRole auth.
import type { SecretStoreDefinition } from '../secret-store-definition.js';
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
  create: (options, context) => new VaultSecretStore(options, context.clock ? { clock: context.clock } : {}),
};
