// What a secret store folder hands the table (secret-store-table.ts): its kind, the zod schema of its options,
// and a factory. The context carries what stores take from outside — environment, clock, the operational store.
import { resolve } from 'node:path';
import type { Kysely } from 'kysely';
import type { z } from 'zod';
import type { Clock } from '../runtime/clock.js';
import type { SecretStore } from './secret-store.js';

export interface SecretStoreContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** keyledger's local data folder; relative credential files (a Vault token file) are resolved against it. */
  dataDir?: string;
  clock?: Clock;
  /** The operational store's database; the embedded store keeps its ciphertexts there. */
  // biome-ignore lint/suspicious/noExplicitAny: the operational schema lives in src/db; stores use their own tables.
  operationalDb?: Kysely<any>;
}

/** Every secret store keyledger has: secret-store-table.ts is a Record over these, so a missing one fails to compile. */
export type SecretStoreKind = 'aws-secrets-manager' | 'embedded' | 'vault';

export interface SecretStoreDefinition<Schema extends z.ZodType = z.ZodType> {
  kind: SecretStoreKind;
  /** One line for `--help` and docs. */
  description: string;
  optionsSchema: Schema;
  /**
   * Fills options a user left out from the environment, the way the store's own tools do (VAULT_ADDR,
   * VAULT_TOKEN, AWS_REGION...), before validation.
   */
  defaultsFromEnv?(env: NodeJS.ProcessEnv): Record<string, unknown>;
  create(options: z.output<Schema>, context: SecretStoreContext): SecretStore;
}

/**
 * The data folder a store keeps local files in (a key file, a token file): the one the app names, else
 * `KEYLEDGER_DATA_DIR`, else `.keyledger` under the working directory.
 */
export function storeDataDir(context: Pick<SecretStoreContext, 'dataDir' | 'env' | 'cwd'>): string {
  return context.dataDir ?? resolve(context.cwd, context.env.KEYLEDGER_DATA_DIR || '.keyledger');
}
