// Opens a registry directory for a command: its config, and the people directory the config names.
import { isAbsolute, join } from 'node:path';
import { loadPeopleDirectory, type PeopleDirectory } from '../directory/people-directory.js';
import { type LoadedRegistryConfig, loadRegistryConfig } from './registry-config.js';

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
