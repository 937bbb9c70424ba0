// Master-key rotation on both engines: rows stay readable throughout, every data key ends up under the new key,
// the old key is retired only when nothing needs it, and a damaged row is reported rather than blocking the rest.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { OperationalStore } from '../../db/operational-store.js';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { SecretValue } from '../secret-value.js';
import { canaryValue } from '../test-support/secret-store-contract.js';
import { MasterKeyring, masterKeyFromBytes, staticMasterKeySource } from './embedded-keyring.js';
import {
  embeddedMasterKeyStatus,
  environmentRetirementHint,
  rewrapEmbeddedSecrets,
  rotateEmbeddedMasterKey,
} from './embedded-master-key-rotation.js';
import { envMasterKeySource, MasterKeyFile } from './embedded-master-key-source.js';
import { EmbeddedSecretStore } from './embedded-secret-store.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keyledger-rotation-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const newKey = () => masterKeyFromBytes(randomBytes(32), 'test');

async function seed(store: EmbeddedSecretStore, count: number): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  for (let index = 0; index < count; index += 1) {
    const path = `rotate/${index}`;
    const value = canaryValue(`r${index}`);
    await store.put(path, new SecretValue(value), { stage: 'current' });
    values.set(path, value);
  }
  return values;
}

forEachBackend((backend) => {
  let operational: OperationalStore;
  beforeAll(async () => {
    operational = await backend.open();
  });
  const wipe = async () => {
    await operational.db
      .withTables<{ embedded_secret_versions: { path: string } }>()
      .deleteFrom('embedded_secret_versions')
      .execute();
    await operational.db.withTables<{ embedded_secrets: { path: string } }>().deleteFrom('embedded_secrets').execute();
  };

  it('rotates a key file: new key active, every row re-wrapped, old key retired, values unchanged', async () => {
    await wipe();
    const file = new MasterKeyFile(join(dir, `${backend.dialect}-a`, 'master.key'));
    const store = new EmbeddedSecretStore({ db: operational.db, keys: file });
    const values = await seed(store, 5);
    const old = await file.load();
    const batches: number[] = [];
    const report = await rotateEmbeddedMasterKey(operational.db, file, {
      batchSize: 2,
      onBatch: (done) => batches.push(done),
    });
    expect(report).toMatchObject({
      previousActiveKeyId: old.active.id,
      generated: true,
      rewrapped: 5,
      failed: [],
      retiredKeyIds: [old.active.id],
      retiringKeyIds: [],
      keysStillInUse: [],
    });
    expect(report.activeKeyId).not.toBe(old.active.id);
    expect(batches).toEqual([2, 4, 5]);
    const text = await readFile(file.path, 'utf8');
    expect(text).not.toContain(old.active.key.toString('base64'));
    for (const [path, value] of values) expect((await store.get(path))?.value.reveal()).toBe(value);
    // A process that still holds only the old key can no longer read: the rows really moved.
    const stale = new EmbeddedSecretStore({ db: operational.db, keys: staticMasterKeySource(old) });
    await expect(stale.get('rotate/0')).rejects.toMatchObject({ code: 'E_MASTER_KEY' });
    const status = await embeddedMasterKeyStatus(operational.db, file);
    expect(status.keys).toEqual([{ id: report.activeKeyId, state: 'active', versions: 5 }]);
  });

  it('keeps rows readable while the keyring holds both keys and rows are half re-wrapped', async () => {
    await wipe();
    const oldKey = newKey();
    const values = await seed(
      new EmbeddedSecretStore({ db: operational.db, keys: staticMasterKeySource(new MasterKeyring(oldKey)) }),
      4,
    );
    const both = new MasterKeyring(newKey(), [oldKey]);
    const reader = new EmbeddedSecretStore({ db: operational.db, keys: staticMasterKeySource(both) });
    // A writer under the new keyring beside rows still under the old key.
    await reader.put('rotate/new', new SecretValue(canaryValue()), { stage: 'current' });
    const status = await embeddedMasterKeyStatus(operational.db, staticMasterKeySource(both));
    expect(status.keys).toEqual([
      { id: both.active.id, state: 'active', versions: 1 },
      { id: oldKey.id, state: 'retiring', versions: 4 },
    ]);
    for (const [path, value] of values) expect((await reader.get(path))?.value.reveal()).toBe(value);
    expect((await rewrapEmbeddedSecrets(operational.db, both, { batchSize: 3 })).rewrapped).toBe(4);
    for (const [path, value] of values) expect((await reader.get(path))?.value.reveal()).toBe(value);
  });

  it('reports a tampered row, re-wraps the rest and keeps the old key while the row needs it', async () => {
    await wipe();
    const file = new MasterKeyFile(join(dir, `${backend.dialect}-b`, 'master.key'));
    const store = new EmbeddedSecretStore({ db: operational.db, keys: file });
    await seed(store, 3);
    const old = await file.load();
    await operational.db
      .withTables<{ embedded_secret_versions: { path: string; wrapped_key: string } }>()
      .updateTable('embedded_secret_versions')
      .set({ wrapped_key: randomBytes(60).toString('base64') })
      .where('path', '=', 'rotate/1')
      .execute();
    const report = await rotateEmbeddedMasterKey(operational.db, file);
    expect(report.rewrapped).toBe(2);
    expect(report.failed).toEqual([{ path: 'rotate/1', version: 1, code: 'E_SECRET_TAMPERED' }]);
    expect(report.retiredKeyIds).toEqual([]);
    expect(report.retiringKeyIds).toEqual([old.active.id]);
    expect((await file.load()).find(old.active.id)).toBeDefined();
    // Run again: an unfinished rotation is finished, not started over with yet another key.
    const again = await rotateEmbeddedMasterKey(operational.db, file);
    expect(again).toMatchObject({ generated: false, activeKeyId: report.activeKeyId, rewrapped: 0 });
  });

  it('re-wraps to a key from the environment and says when the retiring one can go', async () => {
    await wipe();
    const oldKey = randomBytes(32);
    const oldEnv = { KEYLEDGER_MASTER_KEY: oldKey.toString('base64') };
    await seed(new EmbeddedSecretStore({ db: operational.db, keys: envMasterKeySource(oldEnv) }), 3);
    const env = {
      KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
      KEYLEDGER_MASTER_KEY_RETIRING: oldKey.toString('base64'),
    };
    const report = await rotateEmbeddedMasterKey(operational.db, envMasterKeySource(env));
    expect(report).toMatchObject({
      source: 'env',
      generated: false,
      rewrapped: 3,
      retiredKeyIds: [],
      keysStillInUse: [],
    });
    expect(environmentRetirementHint(report)).toContain('KEYLEDGER_MASTER_KEY_RETIRING');
    const reader = new EmbeddedSecretStore({
      db: operational.db,
      keys: envMasterKeySource({ KEYLEDGER_MASTER_KEY: env.KEYLEDGER_MASTER_KEY }),
    });
    expect(await reader.exists('rotate/0')).toBe(true);
    expect((await reader.get('rotate/2'))?.value.reveal()).toMatch(/^kl_r2_CANARY_/);
  });
});
