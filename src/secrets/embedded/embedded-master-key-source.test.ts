// Specification of where master keys come from: the environment, or a 0600 key file made on first run.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretStoreError } from '../secret-store-error.js';
import { MasterKeyring, masterKeyFromBytes } from './embedded-keyring.js';
import {
  defaultMasterKeyFile,
  envMasterKeySource,
  MasterKeyFile,
  masterKeySourceFor,
} from './embedded-master-key-source.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keyledger-master-key-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('master key sources', () => {
  it('creates <data dir>/master.key with mode 0600 on first run and reads the same key after', async () => {
    const env = { KEYLEDGER_DATA_DIR: join(dir, 'data') };
    const source = masterKeySourceFor({ env, cwd: dir });
    expect(source.description).toBe(join(dir, 'data', 'master.key'));
    const first = await source.load();
    const info = await stat(join(dir, 'data', 'master.key'));
    expect(info.mode & 0o777).toBe(0o600);
    const again = await new MasterKeyFile(defaultMasterKeyFile(env, dir)).load();
    expect(again.active.id).toBe(first.active.id);
    expect(again.active.key.equals(first.active.key)).toBe(true);
  });

  it('defaults the data dir to .keyledger under the working directory', () => {
    expect(defaultMasterKeyFile({}, dir)).toBe(join(dir, '.keyledger', 'master.key'));
  });

  it('reads KEYLEDGER_MASTER_KEY and retiring keys from the environment', async () => {
    const active = randomBytes(32);
    const retiring = randomBytes(32);
    const source = envMasterKeySource({
      KEYLEDGER_MASTER_KEY: active.toString('base64'),
      KEYLEDGER_MASTER_KEY_RETIRING: retiring.toString('base64'),
    });
    const keyring = await source.load();
    expect(keyring.active.key.equals(active)).toBe(true);
    expect(keyring.retiringIds).toEqual([masterKeyFromBytes(retiring, 't').id]);
  });

  it('rejects a key that is not 32 bytes of base64 without echoing it', async () => {
    const short = randomBytes(16).toString('base64');
    try {
      envMasterKeySource({ KEYLEDGER_MASTER_KEY: short });
      throw new Error('expected a failure');
    } catch (error) {
      expect(error).toBeInstanceOf(SecretStoreError);
      expect((error as SecretStoreError).code).toBe('E_MASTER_KEY');
      expect((error as Error).message).not.toContain(short);
    }
  });

  it('writes a keyring atomically and re-reads the file when it changes', async () => {
    const file = new MasterKeyFile(join(dir, 'master.key'));
    const first = await file.load();
    const next = masterKeyFromBytes(randomBytes(32), 'test');
    await new MasterKeyFile(file.path).write(new MasterKeyring(next, [first.active]));
    const reloaded = await file.load();
    expect(reloaded.active.id).toBe(next.id);
    expect(reloaded.retiringIds).toEqual([first.active.id]);
    expect((await stat(file.path)).mode & 0o777).toBe(0o600);
    expect(await readFile(file.path, 'utf8')).toMatch(/^retiring /m);
  });

  it('accepts a bare base64 key written by hand and refuses two active keys', async () => {
    const path = join(dir, 'master.key');
    const key = randomBytes(32).toString('base64');
    await writeFile(path, `${key}\n`, { mode: 0o600 });
    expect((await new MasterKeyFile(path).load()).active.key.toString('base64')).toBe(key);
    await writeFile(path, `active ${key}\nactive ${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    await expect(new MasterKeyFile(path).load()).rejects.toMatchObject({ code: 'E_MASTER_KEY' });
  });
});
