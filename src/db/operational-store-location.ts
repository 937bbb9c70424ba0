// Where a registry's local state is: the data folder (`KEYLEDGER_DATA_DIR`, or `.keyledger` under the registry
// root — never the working directory) and the operational store in it, or `KEYLEDGER_DATABASE_URL` (PostgreSQL).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors/keyledger-error.js';
import type { OpenOperationalStoreOptions } from './operational-store.js';

export const DATABASE_URL_VARIABLE = 'KEYLEDGER_DATABASE_URL';
export const DATA_DIR_VARIABLE = 'KEYLEDGER_DATA_DIR';
export const DEFAULT_DATA_DIR_NAME = '.keyledger';
/** The embedded store's file in the data folder. Here, not in operational-store.ts, so that finding it is cheap. */
export const SQLITE_FILE_NAME = 'keyledger.db';

export interface DataDirInput {
  env: NodeJS.ProcessEnv;
  /** Resolves a relative `KEYLEDGER_DATA_DIR`, as any path a user types. */
  cwd: string;
  /** The registry the state belongs to (src/registry/registry-workspace.ts, findRegistryRoot). */
  registryRoot: string;
}

/** `KEYLEDGER_DATA_DIR` when set, else `<registry root>/.keyledger`. */
export function resolveDataDir(input: DataDirInput): string {
  const explicit = input.env[DATA_DIR_VARIABLE];
  return explicit ? resolve(input.cwd, explicit) : join(input.registryRoot, DEFAULT_DATA_DIR_NAME);
}

export function resolveOperationalStoreOptions(input: DataDirInput): OpenOperationalStoreOptions {
  const dataDir = resolveDataDir(input);
  const databaseUrl = input.env[DATABASE_URL_VARIABLE]?.trim();
  return databaseUrl ? { databaseUrl, dataDir } : { dataDir };
}

/**
 * For commands that only read the store (`events`, `master-key status`): the embedded store must already exist.
 * Opening a missing SQLite file would create an empty store (and the data folder) and report an empty success;
 * this says instead that there is nothing here, which is usually a wrong `--registry` or `KEYLEDGER_DATA_DIR`.
 */
export function requireExistingOperationalStore(options: OpenOperationalStoreOptions): OpenOperationalStoreOptions {
  if (options.databaseUrl) return options;
  const file = join(options.dataDir, SQLITE_FILE_NAME);
  if (!existsSync(file)) {
    throw new ConfigError(
      `no operational store at ${file}: nothing has been recorded for this registry yet. Check --registry (or KEYLEDGER_REGISTRY) and ${DATA_DIR_VARIABLE}; ${DATABASE_URL_VARIABLE} points at PostgreSQL instead`,
      { code: 'E_NO_OPERATIONAL_STORE' },
    );
  }
  return options;
}
