// The embedded store: envelope-encrypted versions in the operational store (SQLite or PostgreSQL).
import { resolve } from 'node:path';
import { ConfigError } from '../../errors/keyledger-error.js';
import type { SecretStoreDefinition } from '../secret-store-definition.js';
import { masterKeySourceFor } from './embedded-master-key-source.js';
import { embeddedSecretStoreOptionsSchema } from './embedded-schemas.js';
import { EmbeddedSecretStore } from './embedded-secret-store.js';

export * from './embedded-keyring.js';
export * from './embedded-master-key-rotation.js';
export * from './embedded-master-key-source.js';
export { embeddedSecretStoreOptionsSchema } from './embedded-schemas.js';
export { EmbeddedSecretStore, type EmbeddedSecretStoreOptions } from './embedded-secret-store.js';

export const embeddedSecretStoreDefinition: SecretStoreDefinition<typeof embeddedSecretStoreOptionsSchema> = {
  kind: 'embedded',
  description: 'AES-256-GCM envelope encryption in the operational store, under a local master key',
  optionsSchema: embeddedSecretStoreOptionsSchema,
  create(options, context) {
    if (!context.operationalDb) {
      throw new ConfigError('the embedded secret store needs the operational store: open it and pass operationalDb', {
        code: 'E_SECRET_STORE_CONFIG',
      });
    }
    const keyFile = options.masterKeyFile ? resolve(context.cwd, options.masterKeyFile) : undefined;
    return new EmbeddedSecretStore({
      db: context.operationalDb,
      keys: masterKeySourceFor({ env: context.env, cwd: context.cwd, ...(keyFile ? { keyFile } : {}) }),
      maxVersions: options.maxVersions,
      ...(context.clock ? { clock: context.clock } : {}),
    });
  },
};
