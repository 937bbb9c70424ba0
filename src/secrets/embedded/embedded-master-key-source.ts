// Where the embedded store's master keys come from: `KEYLEDGER_MASTER_KEY` (base64 of 32 bytes, with
// `KEYLEDGER_MASTER_KEY_RETIRING` for keys being rotated out), or the keyring file `<data dir>/master.key`,
// created with mode 0600 and a random key on first run. The file is re-read when it changes, so a running
// process picks up a rotation without a restart.

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { storeDataDir } from '../secret-store-definition.js';
import { SecretStoreError } from '../secret-store-error.js';
import {
  MASTER_KEY_BYTES,
  type MasterKey,
  MasterKeyring,
  type MasterKeySource,
  masterKeyFromBase64,
  masterKeyFromBytes,
} from './embedded-keyring.js';

export const MASTER_KEY_ENV = 'KEYLEDGER_MASTER_KEY';
export const RETIRING_MASTER_KEYS_ENV = 'KEYLEDGER_MASTER_KEY_RETIRING';
export const MASTER_KEY_FILE_NAME = 'master.key';

/** The data directory: `KEYLEDGER_DATA_DIR`, else `.keyledger` under the working directory (storeDataDir). */
export function keyledgerDataDir(env: NodeJS.ProcessEnv, cwd: string): string {
  return storeDataDir({ env, cwd });
}

export function defaultMasterKeyFile(env: NodeJS.ProcessEnv, cwd: string): string {
  return join(keyledgerDataDir(env, cwd), MASTER_KEY_FILE_NAME);
}

/** Chooses the environment when `KEYLEDGER_MASTER_KEY` is set, the key file otherwise. */
export function masterKeySourceFor(options: {
  env: NodeJS.ProcessEnv;
  cwd: string;
  keyFile?: string;
}): MasterKeySource {
  if (options.env[MASTER_KEY_ENV]) return envMasterKeySource(options.env);
  return new MasterKeyFile(options.keyFile ?? defaultMasterKeyFile(options.env, options.cwd));
}

export function envMasterKeySource(env: NodeJS.ProcessEnv): MasterKeySource {
  const text = env[MASTER_KEY_ENV];
  if (!text) throw new SecretStoreError('E_MASTER_KEY', 'embedded', `${MASTER_KEY_ENV} is not set`);
  const active = masterKeyFromBase64(text, MASTER_KEY_ENV);
  const retiring = (env[RETIRING_MASTER_KEYS_ENV] ?? '')
    .split(/[\s,]+/)
    .filter((part) => part.length > 0)
    .map((part, index) => masterKeyFromBase64(part, `${RETIRING_MASTER_KEYS_ENV}[${index}]`));
  const keyring = new MasterKeyring(active, retiring);
  return { description: 'env', load: async () => keyring };
}

const FILE_HEADER = [
  '# keyledger master keyring. Keep this file private (mode 0600) and backed up: without it no secret can be read.',
  '# One key a line: <state> <base64 of 32 bytes>. The `active` key wraps new data keys; `retiring` keys only',
  '# unwrap, until `keyledger master-key rotate` has re-wrapped every row and removes them.',
];

/** The keyring file: read on demand, re-read when its modification time or size changes. */
export class MasterKeyFile implements MasterKeySource {
  readonly path: string;
  #cached?: { keyring: MasterKeyring; mtimeMs: number; size: number; ino: number };

  constructor(path: string) {
    this.path = path;
  }

  get description(): string {
    return this.path;
  }

  /** True when the file is there; `load()` would otherwise create it. */
  async exists(): Promise<boolean> {
    try {
      await stat(this.path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw this.#unreadable(error);
    }
  }

  async load(): Promise<MasterKeyring> {
    let info: { mtimeMs: number; size: number; ino: number };
    try {
      info = await stat(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw this.#unreadable(error);
      await this.#createIfMissing();
      info = await stat(this.path);
    }
    // A rewrite is a rename, so the inode changes even when size and time look the same.
    const cached = this.#cached;
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size && cached.ino === info.ino)
      return cached.keyring;
    const keyring = await this.#read();
    this.#cached = { keyring, mtimeMs: info.mtimeMs, size: info.size, ino: info.ino };
    return keyring;
  }

  /** Replaces the file atomically (write beside it, then rename), keeping mode 0600. */
  async write(keyring: MasterKeyring): Promise<void> {
    const lines = [...FILE_HEADER, `active ${keyring.active.key.toString('base64')}`];
    for (const id of keyring.retiringIds) lines.push(`retiring ${keyring.find(id)!.key.toString('base64')}`);
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await mkdir(dirname(this.path), { recursive: true });
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(`${lines.join('\n')}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.path);
    await chmod(this.path, 0o600);
    this.#cached = undefined;
  }

  async #createIfMissing(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const key = masterKeyFromBytes(randomBytes(MASTER_KEY_BYTES), 'a new random key');
    try {
      const handle = await open(this.path, 'wx', 0o600);
      try {
        await handle.writeFile(`${[...FILE_HEADER, `active ${key.key.toString('base64')}`].join('\n')}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      // Another process won the race to create it; what it wrote is the key.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw this.#unreadable(error);
    }
  }

  async #read(): Promise<MasterKeyring> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      throw this.#unreadable(error);
    }
    let active: MasterKey | undefined;
    const retiring: MasterKey[] = [];
    text.split('\n').forEach((raw, index) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const source = `${this.path}:${index + 1}`;
      const parts = line.split(/\s+/);
      // A bare key on its own line is the active key: the format of a file written by hand.
      const [state, encoded] = parts.length === 1 ? ['active', parts[0]!] : [parts[0]!, parts[1]!];
      const key = masterKeyFromBase64(encoded, source);
      if (state === 'active') {
        if (active)
          throw new SecretStoreError(
            'E_MASTER_KEY',
            'embedded',
            `${source}: a second active key; a keyring has exactly one`,
          );
        active = key;
      } else if (state === 'retiring') {
        retiring.push(key);
      } else {
        throw new SecretStoreError(
          'E_MASTER_KEY',
          'embedded',
          `${source}: unknown key state ${JSON.stringify(state)} (expected active or retiring)`,
        );
      }
    });
    if (!active) throw new SecretStoreError('E_MASTER_KEY', 'embedded', `${this.path} holds no active master key`);
    return new MasterKeyring(active, retiring);
  }

  #unreadable(error: unknown): SecretStoreError {
    return new SecretStoreError(
      'E_MASTER_KEY',
      'embedded',
      `cannot read the master key file ${this.path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        cause: error,
      },
    );
  }
}
