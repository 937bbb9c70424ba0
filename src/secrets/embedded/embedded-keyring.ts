// The master keys of the embedded store. One key is active and wraps every new data key; the others only unwrap,
// so that `keyledger master-key rotate` can re-wrap rows while readers keep working. A key's id is derived from
// the key itself, so a row names the key that wrapped it without the keyring needing a separate registry.
import { createHmac } from 'node:crypto';
import { SecretStoreError } from '../secret-store-error.js';

export const MASTER_KEY_BYTES = 32;

export interface MasterKey {
  /** `mk_` and 16 hex digits of an HMAC of the key: stable, and useless for recovering the key. */
  readonly id: string;
  readonly key: Buffer;
}

export type MasterKeyState = 'active' | 'retiring';

export function masterKeyFromBytes(key: Buffer, source: string): MasterKey {
  if (key.length !== MASTER_KEY_BYTES) {
    throw new SecretStoreError(
      'E_MASTER_KEY',
      'embedded',
      `the master key from ${source} must be exactly 32 bytes (base64), got ${key.length}`,
    );
  }
  const id = `mk_${createHmac('sha256', key).update('keyledger master key id').digest('hex').slice(0, 16)}`;
  return { id, key: Buffer.from(key) };
}

/** Decodes base64 (standard or url-safe) text into a master key. */
export function masterKeyFromBase64(text: string, source: string): MasterKey {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    throw new SecretStoreError('E_MASTER_KEY', 'embedded', `the master key from ${source} is not base64 text`);
  }
  return masterKeyFromBytes(
    Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64'),
    source,
  );
}

export class MasterKeyring {
  readonly active: MasterKey;
  readonly #byId = new Map<string, MasterKey>();

  constructor(active: MasterKey, retiring: MasterKey[] = []) {
    this.active = active;
    this.#byId.set(active.id, active);
    for (const key of retiring) if (!this.#byId.has(key.id)) this.#byId.set(key.id, key);
  }

  /** The key a row names, or undefined when this keyring does not hold it. */
  find(id: string): MasterKey | undefined {
    return this.#byId.get(id);
  }

  /** Every key id, the active one first. */
  get ids(): string[] {
    return [...this.#byId.keys()];
  }

  /** The ids of keys that only unwrap. */
  get retiringIds(): string[] {
    return this.ids.filter((id) => id !== this.active.id);
  }

  stateOf(id: string): MasterKeyState | undefined {
    if (id === this.active.id) return 'active';
    return this.#byId.has(id) ? 'retiring' : undefined;
  }
}

/** Where a store gets its keyring; asked again when a row names a key id the last answer did not hold. */
export interface MasterKeySource {
  /** Where the keys come from, for status output: `env` or the key file's path. */
  readonly description: string;
  /** The keyring as it is now; implementations may cache and re-read when their backing file changes. */
  load(): Promise<MasterKeyring>;
}

/** A source over a keyring fixed in memory, for tests and for keys handed in by a caller. */
export function staticMasterKeySource(keyring: MasterKeyring, description = 'memory'): MasterKeySource {
  return { description, load: async () => keyring };
}
