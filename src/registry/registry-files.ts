// Finds the entry files of a registry: the config's globs under the root, as sorted relative paths.
import { glob } from 'tinyglobby';
import type { RegistryConfig } from './registry-config.js';

export async function findEntryFiles(root: string, config: RegistryConfig): Promise<string[]> {
  const patterns = Array.isArray(config.registry.keys) ? config.registry.keys : [config.registry.keys];
  const files = await glob(patterns, {
    cwd: root,
    onlyFiles: true,
    dot: false,
    ignore: ['**/node_modules/**', '.git/**'],
    // A directory named like an entry (`keys/old.yaml/`) is not an entry, nor is every file below it.
    expandDirectories: false,
  });
  return files.sort();
}
