// Builds the ownership index from a registry directory (the registry loader) and the organisation's
// fingerprint key (KEYLEDGER_FINGERPRINT_KEY, or `<data dir>/fingerprint.key`; data dir = KEYLEDGER_DATA_DIR or
// `<registry root>/.keyledger`, never the working directory). The key is never created here: a scan that cannot
// attribute must say so, not mint a new key.
import { join, resolve } from 'node:path';
import { resolveDataDir } from '../../db/operational-store-location.js';
import { loadRegistry } from '../../registry/registry-loader.js';
import { openRegistryWorkspace } from '../../registry/registry-workspace.js';
import { loadFingerprintKey } from '../../secrets/secret-fingerprint.js';
import { type FingerprintedKey, FingerprintOwnershipIndex } from './ownership-index.js';

export function fingerprintKeyFile(env: NodeJS.ProcessEnv, cwd: string, registryRoot: string): string {
  return join(resolveDataDir({ env, cwd, registryRoot }), 'fingerprint.key');
}

export async function loadRegistryOwnership(options: {
  registryDir: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
}): Promise<FingerprintOwnershipIndex> {
  const workspace = await openRegistryWorkspace(resolve(options.cwd, options.registryDir));
  const key = await loadFingerprintKey({
    env: options.env,
    keyFile: fingerprintKeyFile(options.env, options.cwd, workspace.root),
    create: false,
  });
  const loaded = await loadRegistry({
    root: workspace.root,
    config: workspace.config,
    applyPolicy: false,
    includeEntries: true,
  });
  const keys: FingerprintedKey[] = [];
  for (const { entry } of loaded.entries) {
    const fingerprint = (entry as { fingerprint?: unknown }).fingerprint;
    const providerKeyId = entry.provider_key_id;
    if (typeof fingerprint !== 'string' && !providerKeyId) continue;
    keys.push({
      ...(typeof fingerprint === 'string' ? { fingerprint } : {}),
      ...(providerKeyId ? { providerKeyId } : {}),
      keyId: entry.key_id,
      ...(entry.owner_team ? { ownerTeam: entry.owner_team } : {}),
      ...(entry.owner_individual ? { owner: entry.owner_individual } : {}),
      ...(entry.scope?.provider ? { provider: entry.scope.provider } : {}),
      status: entry.status,
    });
  }
  return new FingerprintOwnershipIndex(keys, key);
}
