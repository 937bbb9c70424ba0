// Where the operational store is, from the environment: `KEYLEDGER_DATABASE_URL` (PostgreSQL) if set, otherwise
// the SQLite file under `KEYLEDGER_DATA_DIR`, or `.keyledger` under the working directory.
import { resolve } from 'node:path';
import type { OpenOperationalStoreOptions } from './operational-store.js';

export const DATABASE_URL_VARIABLE = 'KEYLEDGER_DATABASE_URL';
export const DATA_DIR_VARIABLE = 'KEYLEDGER_DATA_DIR';
export const DEFAULT_DATA_DIR_NAME = '.keyledger';

export function resolveOperationalStoreOptions(input: {
  env: NodeJS.ProcessEnv;
  cwd: string;
}): OpenOperationalStoreOptions {
  const dataDir = resolve(input.cwd, input.env[DATA_DIR_VARIABLE] || DEFAULT_DATA_DIR_NAME);
  const databaseUrl = input.env[DATABASE_URL_VARIABLE]?.trim();
  return databaseUrl ? { databaseUrl, dataDir } : { dataDir };
}
