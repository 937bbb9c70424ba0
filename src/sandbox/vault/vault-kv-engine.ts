// An in-memory model of Vault's KV version 2 secrets engine, one per mount and namespace: versioned data with
// check-and-set, secret metadata with custom_metadata, max_versions pruning, soft delete and destroy. The HTTP
// shapes live in vault-sandbox.ts; this file holds the rules, as Vault documents them.

export const DEFAULT_MAX_VERSIONS = 10;
const CUSTOM_METADATA_MAX_KEYS = 64;
const CUSTOM_METADATA_MAX_KEY_LENGTH = 128;
const CUSTOM_METADATA_MAX_VALUE_LENGTH = 512;

interface StoredVersion {
  data: Record<string, unknown> | null;
  createdTime: string;
  deletionTime: string;
  destroyed: boolean;
}

interface StoredSecret {
  createdTime: string;
  updatedTime: string;
  currentVersion: number;
  oldestVersion: number;
  maxVersions: number;
  casRequired: boolean;
  customMetadata: Record<string, string> | null;
  versions: Map<number, StoredVersion>;
}

/** A failure Vault reports with a status and its `errors` array. */
export class VaultKvError extends Error {
  readonly status: number;
  readonly errors: string[];
  /** For a read of a deleted version: Vault still returns the version's metadata with its 404. */
  readonly body?: unknown;

  constructor(status: number, errors: string[], body?: unknown) {
    super(errors.join('; ') || `status ${status}`);
    this.status = status;
    this.errors = errors;
    this.body = body;
  }
}

export interface VersionMetadata {
  created_time: string;
  custom_metadata: Record<string, string> | null;
  deletion_time: string;
  destroyed: boolean;
  version: number;
}

export class VaultKvEngine {
  readonly #secrets = new Map<string, StoredSecret>();
  readonly #now: () => Date;
  readonly #mountMaxVersions: number;

  constructor(options: { now?: () => Date; maxVersions?: number } = {}) {
    this.#now = options.now ?? (() => new Date());
    this.#mountMaxVersions = options.maxVersions ?? DEFAULT_MAX_VERSIONS;
  }

  /** POST /data/:path. */
  write(path: string, body: unknown): VersionMetadata {
    const input = asObject(body);
    const data = input.data;
    if (data === undefined || data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new VaultKvError(400, ['no data provided']);
    }
    const options = input.options === undefined ? {} : asObject(input.options);
    const existing = this.#secrets.get(path);
    const casRequired = existing?.casRequired ?? false;
    if (options.cas !== undefined) {
      const cas = Number(options.cas);
      if (!Number.isInteger(cas) || cas < 0) throw new VaultKvError(400, ['invalid cas parameter']);
      if (cas !== (existing?.currentVersion ?? 0)) {
        throw new VaultKvError(400, ['check-and-set parameter did not match the current version']);
      }
    } else if (casRequired) {
      throw new VaultKvError(400, ['check-and-set parameter required for this call']);
    }
    const now = this.#timestamp();
    const secret = existing ?? this.#newSecret(now);
    const version = secret.currentVersion + 1;
    secret.versions.set(version, {
      data: { ...(data as Record<string, unknown>) },
      createdTime: now,
      deletionTime: '',
      destroyed: false,
    });
    secret.currentVersion = version;
    secret.updatedTime = now;
    if (secret.oldestVersion === 0) secret.oldestVersion = version;
    this.#secrets.set(path, secret);
    this.#prune(secret);
    return versionMetadata(secret, version);
  }

  /** GET /data/:path?version=N. */
  read(path: string, versionParameter: string | null): { data: Record<string, unknown>; metadata: VersionMetadata } {
    const secret = this.#secrets.get(path);
    if (!secret) throw new VaultKvError(404, []);
    const version =
      versionParameter === null || versionParameter === '' || versionParameter === '0'
        ? secret.currentVersion
        : Number(versionParameter);
    if (!Number.isInteger(version) || version < 0) throw new VaultKvError(400, ['invalid version parameter']);
    const stored = secret.versions.get(version);
    if (!stored) throw new VaultKvError(404, []);
    const metadata = versionMetadata(secret, version);
    if (stored.destroyed || stored.deletionTime !== '' || stored.data === null) {
      throw new VaultKvError(404, [], { data: { data: null, metadata } });
    }
    return { data: { ...stored.data }, metadata };
  }

  /**
   * LIST /metadata/:folder (or GET with `?list=true`): the names directly under a folder, sub-folders ending in
   * `/`, sorted; 404 when nothing is there, as Vault answers.
   */
  list(folder: string): string[] {
    const prefix = folder === '' || folder.endsWith('/') ? folder : `${folder}/`;
    const names = new Set<string>();
    for (const path of this.#secrets.keys()) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf('/');
      names.add(slash === -1 ? rest : rest.slice(0, slash + 1));
    }
    if (names.size === 0) throw new VaultKvError(404, []);
    return [...names].sort();
  }

  /** GET /metadata/:path. */
  readMetadata(path: string): Record<string, unknown> {
    const secret = this.#secrets.get(path);
    if (!secret) throw new VaultKvError(404, []);
    const versions: Record<string, unknown> = {};
    for (const [number, stored] of secret.versions) {
      versions[String(number)] = {
        created_time: stored.createdTime,
        deletion_time: stored.deletionTime,
        destroyed: stored.destroyed,
      };
    }
    return {
      cas_required: secret.casRequired,
      created_time: secret.createdTime,
      current_version: secret.currentVersion,
      custom_metadata: secret.customMetadata,
      delete_version_after: '0s',
      max_versions: secret.maxVersions,
      oldest_version: secret.oldestVersion,
      updated_time: secret.updatedTime,
      versions,
    };
  }

  /** POST /metadata/:path: creates the metadata if missing; a field left out keeps its value. */
  writeMetadata(path: string, body: unknown): void {
    const input = asObject(body);
    const errors: string[] = [];
    let customMetadata: Record<string, string> | undefined;
    if (input.custom_metadata !== undefined && input.custom_metadata !== null) {
      customMetadata = validateCustomMetadata(input.custom_metadata, errors);
    }
    if (
      input.max_versions !== undefined &&
      (!Number.isInteger(input.max_versions) || (input.max_versions as number) < 0)
    ) {
      errors.push('max_versions must be a non-negative integer');
    }
    if (errors.length > 0) throw new VaultKvError(400, errors);
    const now = this.#timestamp();
    const secret = this.#secrets.get(path) ?? this.#newSecret(now);
    if (typeof input.max_versions === 'number') secret.maxVersions = input.max_versions;
    if (typeof input.cas_required === 'boolean') secret.casRequired = input.cas_required;
    if (customMetadata !== undefined) secret.customMetadata = customMetadata;
    secret.updatedTime = now;
    this.#secrets.set(path, secret);
    this.#prune(secret);
  }

  /** DELETE /metadata/:path: every version and the metadata, for good. */
  deleteMetadata(path: string): void {
    this.#secrets.delete(path);
  }

  /** DELETE /data/:path: soft-deletes the latest version. */
  deleteLatest(path: string): void {
    const secret = this.#secrets.get(path);
    const stored = secret?.versions.get(secret.currentVersion);
    if (stored && stored.deletionTime === '') stored.deletionTime = this.#timestamp();
  }

  /** POST /destroy/:path with `versions`: removes those versions' data permanently. */
  destroy(path: string, body: unknown): void {
    const versions = asObject(body).versions;
    if (!Array.isArray(versions) || versions.length === 0) throw new VaultKvError(400, ['no version number provided']);
    const secret = this.#secrets.get(path);
    if (!secret) return;
    for (const number of versions) {
      const stored = secret.versions.get(Number(number));
      if (stored) {
        stored.destroyed = true;
        stored.data = null;
      }
    }
  }

  #newSecret(now: string): StoredSecret {
    return {
      createdTime: now,
      updatedTime: now,
      currentVersion: 0,
      oldestVersion: 0,
      maxVersions: 0,
      casRequired: false,
      customMetadata: null,
      versions: new Map(),
    };
  }

  /** Drops the oldest versions beyond the secret's max_versions (0 means the mount's setting). */
  #prune(secret: StoredSecret): void {
    const limit = secret.maxVersions > 0 ? secret.maxVersions : this.#mountMaxVersions;
    const numbers = [...secret.versions.keys()].sort((a, b) => a - b);
    while (numbers.length > limit) secret.versions.delete(numbers.shift()!);
    if (numbers.length > 0) secret.oldestVersion = numbers[0]!;
  }

  #timestamp(): string {
    return this.#now().toISOString();
  }
}

function versionMetadata(secret: StoredSecret, version: number): VersionMetadata {
  const stored = secret.versions.get(version)!;
  return {
    created_time: stored.createdTime,
    custom_metadata: secret.customMetadata,
    deletion_time: stored.deletionTime,
    destroyed: stored.destroyed,
    version,
  };
}

function validateCustomMetadata(value: unknown, errors: string[]): Record<string, string> {
  if (typeof value !== 'object' || Array.isArray(value) || value === null) {
    errors.push('custom_metadata must be a map of strings to strings');
    return {};
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > CUSTOM_METADATA_MAX_KEYS) {
    errors.push(
      `custom_metadata validation failed: payload must contain at most ${CUSTOM_METADATA_MAX_KEYS} keys, provided ${entries.length}`,
    );
  }
  const result: Record<string, string> = {};
  for (const [key, item] of entries) {
    if (typeof item !== 'string') {
      errors.push(`custom_metadata validation failed: value for key "${key}" is not a string`);
      continue;
    }
    if (key.length > CUSTOM_METADATA_MAX_KEY_LENGTH)
      errors.push(
        `custom_metadata validation failed: length of key "${key}" exceeds ${CUSTOM_METADATA_MAX_KEY_LENGTH}`,
      );
    // Vault names the key, never the value, in this error.
    if (item.length > CUSTOM_METADATA_MAX_VALUE_LENGTH)
      errors.push(
        `custom_metadata validation failed: length of value for key "${key}" exceeds ${CUSTOM_METADATA_MAX_VALUE_LENGTH}`,
      );
    result[key] = item;
  }
  return result;
}

function asObject(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new VaultKvError(400, ['error parsing JSON']);
  return value as Record<string, unknown>;
}
