// Builds the secret stores a registry's config names (`stores:`), for the storage-exists check of `validate`.
// Credential files a store names relative to nothing (a Vault token file) are the registry's data folder's:
// `KEYLEDGER_DATA_DIR`, else `<registry root>/.keyledger`.
import { join, resolve } from 'node:path';
import type { RegistryWorkspace } from '../registry/registry-workspace.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { createSecretStore } from '../secrets/secret-store-table.js';
import type { CliContext } from './cli-context.js';

export async function openConfiguredStores(
  workspace: RegistryWorkspace,
  context: CliContext,
): Promise<Map<string, SecretStore>> {
  const dataDir = context.env.KEYLEDGER_DATA_DIR
    ? resolve(context.cwd, context.env.KEYLEDGER_DATA_DIR)
    : join(workspace.root, '.keyledger');
  const stores = new Map<string, SecretStore>();
  for (const [name, { kind, ...options }] of Object.entries(workspace.config.stores)) {
    // The embedded store needs the operational store, which validate does not open: its kind says so (ConfigError).
    stores.set(
      name,
      createSecretStore(kind, options, { env: context.env, cwd: context.cwd, dataDir, clock: context.clock }),
    );
  }
  return stores;
}
