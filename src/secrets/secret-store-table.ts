// Every secret store, registered by name (src/secrets/README.md). The core asks this table for a store by
// the kind in its configuration and never imports an implementation. To add one: a folder `secrets/<name>/` with
// `<name>-secret-store.ts`, `<name>-schemas.ts`, an `index.ts` exporting its definition, and one line below.
import { ConfigError } from '../errors/keyledger-error.js';
import { awsSecretsManagerSecretStoreDefinition } from './aws-secrets-manager/index.js';
import { embeddedSecretStoreDefinition } from './embedded/index.js';
import type { SecretStore } from './secret-store.js';
import type { SecretStoreContext, SecretStoreDefinition, SecretStoreKind } from './secret-store-definition.js';
import { vaultSecretStoreDefinition } from './vault/index.js';

export type { SecretStoreContext, SecretStoreDefinition, SecretStoreKind } from './secret-store-definition.js';

export const secretStoreTable: Readonly<Record<SecretStoreKind, SecretStoreDefinition>> = {
  embedded: embeddedSecretStoreDefinition,
  vault: vaultSecretStoreDefinition,
  'aws-secrets-manager': awsSecretsManagerSecretStoreDefinition,
};

export const DEFAULT_SECRET_STORE_KIND = 'embedded';

export function secretStoreKinds(): string[] {
  return Object.keys(secretStoreTable);
}

/**
 * Validates `options` with the store's schema (after filling gaps from the environment) and builds the store.
 * Errors name the field, never its value: options hold tokens and secret ids.
 */
export function createSecretStore(kind: string, options: unknown, context: SecretStoreContext): SecretStore {
  const definition = Object.hasOwn(secretStoreTable, kind) ? secretStoreTable[kind as SecretStoreKind] : undefined;
  if (!definition) {
    throw new ConfigError(`unknown secret store "${kind}"; known: ${secretStoreKinds().join(', ')}`, {
      code: 'E_SECRET_STORE_CONFIG',
    });
  }
  const given = options === undefined || options === null ? {} : options;
  if (typeof given !== 'object' || Array.isArray(given)) {
    throw new ConfigError(`the options of secret store "${kind}" must be an object`, { code: 'E_SECRET_STORE_CONFIG' });
  }
  const merged = { ...(definition.defaultsFromEnv?.(context.env) ?? {}), ...(given as Record<string, unknown>) };
  const parsed = definition.optionsSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`);
    throw new ConfigError(`invalid options for secret store "${kind}": ${problems.join('; ')}`, {
      code: 'E_SECRET_STORE_CONFIG',
    });
  }
  return definition.create(parsed.data, context);
}
