// The interface every place that holds key material implements (src/secrets/README.md). Stages follow AWS
// Secrets Manager's rotation protocol: a new version is written as `pending`, promoted to `current` once verified,
// and the version it replaces becomes `previous`. Implementations live in secrets/<name>/, registered by name in
// secrets/secret-store-table.ts; the core imports this file only.
import type { SecretValue } from './secret-value.js';

export type SecretStage = 'pending' | 'current' | 'previous';

export interface SecretVersion {
  /** The store's id of this version (Vault's version number as text, Secrets Manager's VersionId...). */
  versionId: string;
  stages: SecretStage[];
  createdAt: Date;
  /** Non-secret labels kept beside the version (the provider key id, the rotation id). */
  metadata: Record<string, string>;
}

export interface StoredSecret extends SecretVersion {
  value: SecretValue;
}

export interface PutSecretOptions {
  /** The stage the new version gets; `pending` during rotation, `current` on first issue. */
  stage: SecretStage;
  metadata?: Record<string, string>;
  /** Makes a retried write idempotent: the same token for the same path returns the existing version. */
  idempotencyToken?: string;
}

export interface SecretStore {
  /** The store's kind as configured: `embedded`, `vault`, `aws-secrets-manager`. */
  readonly kind: string;
  /** Writes a new version at `path` with the given stage; an older holder of that stage loses it. */
  put(path: string, value: SecretValue, options: PutSecretOptions): Promise<SecretVersion>;
  /** Reads the version holding `stage` (default `current`), or null when there is none. */
  get(path: string, stage?: SecretStage): Promise<StoredSecret | null>;
  /** Moves `pending` to `current` and the old `current` to `previous`; a no-op when nothing is pending. */
  promote(path: string): Promise<SecretVersion>;
  /** Drops the `pending` version (a rolled-back rotation), leaving `current` untouched. */
  discardPending(path: string): Promise<void>;
  /** Lists the versions kept at `path`, newest first, without their values. */
  versions(path: string): Promise<SecretVersion[]>;
  /** Removes the secret and every version of it. Deleting a missing path is not an error. */
  delete(path: string): Promise<void>;
  /** True when a `current` version exists at `path`. */
  exists(path: string): Promise<boolean>;
  /**
   * Proves the store is reachable and accepts a write beside `path` (a probe secret written and deleted at once,
   * secret-store-probe.ts), before anything is minted for it; throws the store's typed error when not. Leaves
   * `path` and everything else untouched.
   */
  checkWritable(path: string): Promise<void>;
}
