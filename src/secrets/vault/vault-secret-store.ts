// The Vault KV version 2 store. Each version is a KV version (the value in `valueField`, keyledger's labels
// beside it); the stages are pointers in the secret's custom_metadata — `keyledger_current`, `keyledger_pending`,
// `keyledger_previous` hold version numbers — with a `keyledger_v<N>` entry per recent version carrying its
// metadata and idempotency-token hash, so listing versions needs no data reads. Writes use check-and-set.
//
// Vault's metadata endpoint has no check-and-set of its own, so every change to a path runs under a per-path
// queue inside this process and, across processes, under a check-and-set lease lock (vault-path-lock.ts); a data
// write that still loses a check-and-set race re-reads the pointers before it tries again.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { type Clock, systemClock } from '../../runtime/clock.js';
import { assertSecretPath } from '../secret-path.js';
import type { PutSecretOptions, SecretStage, SecretStore, SecretVersion, StoredSecret } from '../secret-store.js';
import { SecretStoreError } from '../secret-store-error.js';
import { runWriteProbe } from '../secret-store-probe.js';
import { SecretValue } from '../secret-value.js';
import { VaultAppRoleAuth, VaultTokenAuth, VaultTokenFileAuth } from './vault-auth.js';
import { isCasMismatch, type VaultAnswer, VaultHttpClient } from './vault-http-client.js';
import { VaultPathLock } from './vault-path-lock.js';
import type { VaultSecretStoreOptions } from './vault-schemas.js';

const KIND = 'vault';
const POINTER_KEY: Record<SecretStage, string> = {
  current: 'keyledger_current',
  pending: 'keyledger_pending',
  previous: 'keyledger_previous',
};
const VERSION_ENTRY_PREFIX = 'keyledger_v';
/** Version entries kept in custom_metadata; with three pointers this stays well under Vault's 64 keys. */
const VERSION_ENTRIES_KEPT = 20;
const CUSTOM_METADATA_VALUE_LIMIT = 512;
const DATA_METADATA_FIELD = 'keyledger_metadata';
const DATA_TOKEN_FIELD = 'keyledger_token';
const DATA_STAGE_FIELD = 'keyledger_stage';

interface VersionEntry {
  /** The version's metadata. */
  m: Record<string, string>;
  /** A hash of the idempotency token it was written with. */
  t?: string;
}

/** What a secret's metadata says, parsed. */
interface VaultSecretState {
  currentVersion: number;
  pointers: Record<SecretStage, number | null>;
  entries: Map<number, VersionEntry>;
  /** custom_metadata keys that are not keyledger's, kept as they are. */
  foreign: Record<string, string>;
  /** Live versions (not deleted or destroyed) and when each was made. */
  versions: Map<number, string>;
}

export class VaultSecretStore implements SecretStore {
  readonly kind = KIND;
  readonly #client: VaultHttpClient;
  readonly #options: VaultSecretStoreOptions;
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #pathLock?: VaultPathLock;

  constructor(options: VaultSecretStoreOptions, runtime: { clock?: Clock; dispatcher?: Dispatcher } = {}) {
    this.#options = options;
    this.#client = new VaultHttpClient({
      address: options.address,
      timeoutMs: options.requestTimeoutMs,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      ...(runtime.dispatcher ? { dispatcher: runtime.dispatcher } : {}),
    });
    const auth = options.auth;
    this.#client.useAuth(
      auth.method === 'token'
        ? new VaultTokenAuth(new SecretValue(auth.token))
        : auth.method === 'token-file'
          ? new VaultTokenFileAuth(auth.path)
          : new VaultAppRoleAuth({
              mount: auth.mount,
              roleId: auth.roleId,
              secretId: new SecretValue(auth.secretId),
              clock: runtime.clock ?? systemClock,
              login: (mount, roleId, secretId) => this.#client.loginWithAppRole(mount, roleId, secretId),
            }),
    );
    if (options.crossProcessLock) {
      this.#pathLock = new VaultPathLock(this.#client, (kind, path) => this.#route(kind, path), {
        leaseMs: options.lockLeaseMs,
        waitMs: options.lockWaitMs,
      });
    }
  }

  async put(path: string, value: SecretValue, options: PutSecretOptions): Promise<SecretVersion> {
    assertSecretPath(KIND, path);
    const metadata = { ...(options.metadata ?? {}) };
    const tokenHash = options.idempotencyToken === undefined ? undefined : hashToken(options.idempotencyToken);
    const entry: VersionEntry = tokenHash ? { m: metadata, t: tokenHash } : { m: metadata };
    if (JSON.stringify(entry).length > CUSTOM_METADATA_VALUE_LIMIT) {
      throw new SecretStoreError(
        'E_SECRET_STORE_INVALID_REQUEST',
        KIND,
        `the metadata of a version at ${path} must fit in ${CUSTOM_METADATA_VALUE_LIMIT} characters of JSON (Vault's custom_metadata limit)`,
        { path },
      );
    }
    return this.#serialise(path, async () => {
      for (let attempt = 0; attempt < this.#options.casAttempts; attempt += 1) {
        const state = await this.#readState(path);
        if (tokenHash) {
          const replayed = await this.#replay(path, value, tokenHash, state);
          if (replayed) return replayed;
        }
        let written: VaultAnswer;
        try {
          written = await this.#client.call({
            method: 'POST',
            path: this.#route('data', path),
            json: {
              options: { cas: state?.currentVersion ?? 0 },
              data: {
                [this.#options.valueField]: value.reveal(),
                [DATA_METADATA_FIELD]: JSON.stringify(metadata),
                [DATA_STAGE_FIELD]: options.stage,
                ...(tokenHash ? { [DATA_TOKEN_FIELD]: tokenHash } : {}),
              },
            },
            secrets: [value],
            secretPath: path,
          });
        } catch (error) {
          if (isCasMismatch(error)) continue;
          throw error;
        }
        const version = Number(written.body?.data?.version);
        const createdTime = String(written.body?.data?.created_time ?? new Date().toISOString());
        const next = withStage(state ?? emptyState(), options.stage, version);
        next.entries.set(version, entry);
        next.versions.set(version, createdTime);
        await this.#writePointers(path, next);
        return toVersion(version, createdTime, next, metadata);
      }
      throw new SecretStoreError(
        'E_SECRET_CONFLICT',
        KIND,
        `gave up writing ${path} after ${this.#options.casAttempts} check-and-set conflicts`,
        {
          path,
        },
      );
    });
  }

  async get(path: string, stage: SecretStage = 'current'): Promise<StoredSecret | null> {
    assertSecretPath(KIND, path);
    const state = await this.#readState(path);
    const version = state?.pointers[stage] ?? null;
    if (!state || version === null) return null;
    const data = await this.#readData(path, version);
    if (!data) return null;
    const raw = data.data?.[this.#options.valueField];
    if (typeof raw !== 'string' || raw === '') {
      throw new SecretStoreError(
        'E_SECRET_STORE',
        KIND,
        `version ${version} of ${path} has no string field ${this.#options.valueField}`,
        { path },
      );
    }
    const metadata = state.entries.get(version)?.m ?? parseMetadata(data.data?.[DATA_METADATA_FIELD]);
    return { ...toVersion(version, String(data.metadata?.created_time), state, metadata), value: new SecretValue(raw) };
  }

  async promote(path: string): Promise<SecretVersion> {
    assertSecretPath(KIND, path);
    return this.#serialise(path, async () => {
      const state = await this.#readState(path);
      if (!state) throw notFound(path, 'there is no secret to promote');
      const { pending, current, previous } = state.pointers;
      const target = pending ?? current;
      if (target === null) throw notFound(path, 'it has neither a pending nor a current version');
      if (pending !== null) {
        state.pointers = { current: pending, pending: null, previous: current ?? previous };
        await this.#writePointers(path, state);
      }
      return toVersion(target, state.versions.get(target) ?? '', state, state.entries.get(target)?.m ?? {});
    });
  }

  async discardPending(path: string): Promise<void> {
    assertSecretPath(KIND, path);
    await this.#serialise(path, async () => {
      const state = await this.#readState(path);
      const pending = state?.pointers.pending ?? null;
      if (!state || pending === null) return;
      state.pointers.pending = null;
      await this.#writePointers(path, state);
      // The rolled-back key's material has no further use: destroy it rather than leave it in the history.
      await this.#client.call({
        method: 'POST',
        path: this.#route('destroy', path),
        json: { versions: [pending] },
        secretPath: path,
      });
    });
  }

  async versions(path: string): Promise<SecretVersion[]> {
    assertSecretPath(KIND, path);
    const state = await this.#readState(path);
    if (!state) return [];
    return [...state.versions.entries()]
      .sort(([a], [b]) => b - a)
      .map(([version, createdTime]) => toVersion(version, createdTime, state, state.entries.get(version)?.m ?? {}));
  }

  async delete(path: string): Promise<void> {
    assertSecretPath(KIND, path);
    await this.#serialise(
      path,
      async () => {
        await this.#client.call({
          method: 'DELETE',
          path: this.#route('metadata', path),
          accept: [404],
          secretPath: path,
        });
      },
      { forget: true },
    );
  }

  async checkWritable(path: string): Promise<void> {
    assertSecretPath(KIND, path);
    await runWriteProbe(this, path);
  }

  async exists(path: string): Promise<boolean> {
    assertSecretPath(KIND, path);
    const state = await this.#readState(path);
    return state !== null && state.pointers.current !== null;
  }

  /** A retried put: the version written earlier with this token, or null when there is none. */
  async #replay(
    path: string,
    value: SecretValue,
    tokenHash: string,
    state: VaultSecretState | null,
  ): Promise<SecretVersion | null> {
    if (!state) return null;
    let version = [...state.entries.entries()].find(([, entry]) => entry.t === tokenHash)?.[0];
    let recover = false;
    // A write that landed but crashed before its pointers were recorded leaves the newest version unlisted.
    if (version === undefined && state.currentVersion > 0 && !state.entries.has(state.currentVersion)) {
      version = state.currentVersion;
      recover = true;
    }
    if (version === undefined) return null;
    const data = await this.#readData(path, version);
    if (!data || data.data?.[DATA_TOKEN_FIELD] !== tokenHash) return null;
    const earlier = data.data?.[this.#options.valueField];
    if (typeof earlier !== 'string' || !sameText(earlier, value.reveal())) {
      throw new SecretStoreError(
        'E_SECRET_CONFLICT',
        KIND,
        `idempotency token already used at ${path} (version ${version}) for a different value`,
        {
          path,
        },
      );
    }
    const metadata = parseMetadata(data.data?.[DATA_METADATA_FIELD]);
    if (recover) {
      const stage = String(data.data?.[DATA_STAGE_FIELD] ?? 'pending') as SecretStage;
      const next = withStage(state, POINTER_KEY[stage] ? stage : 'pending', version);
      next.entries.set(version, { m: metadata, t: tokenHash });
      await this.#writePointers(path, next);
      return toVersion(version, String(data.metadata?.created_time), next, metadata);
    }
    return toVersion(version, String(data.metadata?.created_time), state, metadata);
  }

  async #readState(path: string): Promise<VaultSecretState | null> {
    const answer = await this.#client.call({
      method: 'GET',
      path: this.#route('metadata', path),
      accept: [404],
      secretPath: path,
    });
    if (answer.status === 404) return null;
    return parseState(answer.body?.data ?? {});
  }

  // biome-ignore lint/suspicious/noExplicitAny: Vault's read answer, checked field by field.
  async #readData(path: string, version: number): Promise<any | null> {
    const answer = await this.#client.call({
      method: 'GET',
      path: `${this.#route('data', path)}?version=${version}`,
      accept: [404],
      secretPath: path,
    });
    // A 404 here is a version deleted, destroyed or pruned by max_versions: it no longer holds a value.
    if (answer.status === 404 || !answer.body?.data?.data) return null;
    return answer.body.data;
  }

  async #writePointers(path: string, state: VaultSecretState): Promise<void> {
    const custom: Record<string, string> = { ...state.foreign };
    for (const stage of Object.keys(POINTER_KEY) as SecretStage[]) {
      const version = state.pointers[stage];
      if (version !== null) custom[POINTER_KEY[stage]] = String(version);
    }
    const staged = new Set(Object.values(state.pointers).filter((version) => version !== null));
    const kept = [...state.entries.keys()]
      .filter((version) => state.versions.has(version) || staged.has(version))
      .sort((a, b) => b - a)
      .filter((version, index) => index < VERSION_ENTRIES_KEPT || staged.has(version));
    for (const version of kept)
      custom[`${VERSION_ENTRY_PREFIX}${version}`] = JSON.stringify(state.entries.get(version));
    await this.#client.call({
      method: 'POST',
      path: this.#route('metadata', path),
      json: { custom_metadata: custom },
      secretPath: path,
    });
  }

  #route(kind: 'data' | 'metadata' | 'destroy', path: string): string {
    const full = this.#options.pathPrefix ? `${this.#options.pathPrefix}/${path}` : path;
    return `${encodeURIComponent(this.#options.mount)}/${kind}/${full.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** Runs `work` after every earlier change to `path` in this process has finished, holding the path's lock. */
  async #serialise<T>(path: string, work: () => Promise<T>, options: { forget?: boolean } = {}): Promise<T> {
    const before = this.#locks.get(path) ?? Promise.resolve();
    const locked = () => (this.#pathLock ? this.#pathLock.withLock(path, work, options) : work());
    const run = before.then(locked, locked);
    const settled = run.catch(() => undefined);
    this.#locks.set(path, settled);
    try {
      return await run;
    } finally {
      if (this.#locks.get(path) === settled) this.#locks.delete(path);
    }
  }
}

// biome-ignore lint/suspicious/noExplicitAny: Vault's metadata answer, checked field by field.
function parseState(data: any): VaultSecretState {
  const custom: Record<string, string> = data.custom_metadata ?? {};
  const pointers: Record<SecretStage, number | null> = { current: null, pending: null, previous: null };
  const entries = new Map<number, VersionEntry>();
  const foreign: Record<string, string> = {};
  const reverse = new Map(Object.entries(POINTER_KEY).map(([stage, key]) => [key, stage as SecretStage]));
  for (const [key, text] of Object.entries(custom)) {
    const stage = reverse.get(key);
    if (stage) {
      const version = Number(text);
      pointers[stage] = Number.isInteger(version) && version > 0 ? version : null;
    } else if (key.startsWith(VERSION_ENTRY_PREFIX) && /^\d+$/.test(key.slice(VERSION_ENTRY_PREFIX.length))) {
      try {
        entries.set(Number(key.slice(VERSION_ENTRY_PREFIX.length)), JSON.parse(text) as VersionEntry);
      } catch {
        // A hand-edited entry is ignored; the version's data still holds its metadata.
      }
    } else {
      foreign[key] = text;
    }
  }
  const versions = new Map<number, string>();
  for (const [number, info] of Object.entries(
    (data.versions ?? {}) as Record<string, { created_time: string; deletion_time: string; destroyed: boolean }>,
  )) {
    if (!info.destroyed && !info.deletion_time) versions.set(Number(number), info.created_time);
  }
  return { currentVersion: Number(data.current_version ?? 0), pointers, entries, foreign, versions };
}

function emptyState(): VaultSecretState {
  return {
    currentVersion: 0,
    pointers: { current: null, pending: null, previous: null },
    entries: new Map(),
    foreign: {},
    versions: new Map(),
  };
}

/** The state after `version` takes `stage`: its old holder loses it, and an old current becomes previous. */
function withStage(state: VaultSecretState, stage: SecretStage, version: number): VaultSecretState {
  const pointers = { ...state.pointers };
  if (stage === 'current' && pointers.current !== null && pointers.current !== version)
    pointers.previous = pointers.current;
  pointers[stage] = version;
  return { ...state, pointers, entries: new Map(state.entries), versions: new Map(state.versions) };
}

function toVersion(
  version: number,
  createdTime: string,
  state: VaultSecretState,
  metadata: Record<string, string>,
): SecretVersion {
  const stages: SecretStage[] = [];
  if (state.pointers.pending === version) stages.push('pending');
  if (state.pointers.current === version) stages.push('current');
  if (state.pointers.previous === version) stages.push('previous');
  return { versionId: String(version), stages, createdAt: new Date(createdTime), metadata: { ...metadata } };
}

function parseMetadata(text: unknown): Record<string, string> {
  if (typeof text !== 'string') return {};
  try {
    return JSON.parse(text) as Record<string, string>;
  } catch {
    return {};
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 32);
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

function notFound(path: string, why: string): SecretStoreError {
  return new SecretStoreError('E_SECRET_NOT_FOUND', KIND, `cannot promote ${path}: ${why}`, { path });
}
