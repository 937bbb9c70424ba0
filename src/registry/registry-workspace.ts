// Opens a registry directory for a command: its config, and the people directory the config names. Also finds
// the registry a directory belongs to (`findRegistryRoot`), which is what every command's `--registry` resolves
// to and where the registry's local state (`<root>/.keyledger/`) lives.
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { loadPeopleDirectory, type PeopleDirectory } from '../directory/people-directory.js';
import { CONFIG_FILE_NAME, type LoadedRegistryConfig, loadRegistryConfig } from './registry-config.js';

export interface RegistryWorkspace extends LoadedRegistryConfig {
  people?: PeopleDirectory;
}

export async function openRegistryWorkspace(
  root: string,
  options: { configFile?: string } = {},
): Promise<RegistryWorkspace> {
  const loaded = await loadRegistryConfig(root, options.configFile);
  const directoryFile = loaded.config.policy.people_directory;
  if (!directoryFile) return loaded;
  const path = isAbsolute(directoryFile) ? directoryFile : join(loaded.root, directoryFile);
  return { ...loaded, people: await loadPeopleDirectory(path) };
}

/** The folder of entries `keyledger init` writes; a directory holding it is a registry even without a config. */
export const ENTRIES_DIRECTORY_NAME = 'keys';

/**
 * The registry `directory` belongs to: the nearest directory at or above it that holds `keyledger.config.yaml`,
 * or else `directory` itself when it holds a `keys/` folder. The upward search stops at the top of the git work
 * tree the directory is in (a registry is one git repository), or at the file-system root outside git.
 * Undefined when there is none: the caller says so rather than treating an arbitrary folder as an empty registry.
 */
export async function findRegistryRoot(directory: string): Promise<string | undefined> {
  const start = resolve(directory);
  if (!(await isDirectory(start))) return undefined;
  for (let current = start; ; current = dirname(current)) {
    if (await isFile(join(current, CONFIG_FILE_NAME))) return current;
    // `.git` is a directory in a repository, a file in a worktree or submodule: either ends the work tree.
    if (await exists(join(current, '.git'))) break;
    if (dirname(current) === current) break;
  }
  return (await isDirectory(join(start, ENTRIES_DIRECTORY_NAME))) ? start : undefined;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}
