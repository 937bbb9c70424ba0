// Builds the secret stores a registry's config names (`stores:`), for the storage-exists check and for issuance.
import { ConfigError } from '../errors/keyledger-error.js';
import type { RegistryWorkspace } from '../registry/registry-workspace.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { CliContext } from './cli-context.js';

export async function openConfiguredStores(
  workspace: RegistryWorkspace,
  _context: CliContext,
): Promise<Map<string, SecretStore>> {
  const stores = new Map<string, SecretStore>();
  for (const [name, options] of Object.entries(workspace.config.stores)) {
    throw new ConfigError(`stores.${name}: secret store kind "${options.kind}" is not available in this build`);
  }
  return stores;
}
