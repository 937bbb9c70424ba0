// The embedded store on both engines: the shared contract, plus what only an encrypting store must prove — the
// database never sees plaintext, and any row that was altered, moved or keyed wrongly fails loudly.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { OperationalStore } from '../../db/operational-store.js';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { SecretValue } from '../secret-value.js';
import { canaryValue, describeSecretStoreContract, expectErrorFreeOf } from '../test-support/secret-store-contract.js';
import { MasterKeyring, masterKeyFromBytes, staticMasterKeySource } from './embedded-keyring.js';
import { EmbeddedSecretStore } from './embedded-secret-store.js';

const keyring = new MasterKeyring(masterKeyFromBytes(randomBytes(32), 'test'));

forEachBackend((backend) => {
  let opened: Promise<OperationalStore> | undefined;
  const operational = () => {
    opened ??= backend.open();
    return opened;
  };
  const openStore = async (keys = keyring) =>
    new EmbeddedSecretStore({ db: (await operational()).db, keys: staticMasterKeySource(keys) });

  describeSecretStoreContract(`embedded on ${backend.dialect}`, () => openStore());

  describe('embedded encryption at rest', () => {
    const rowOf = async (path: string, version: number) =>
      (await operational()).db
        .withTables<{ embedded_secret_versions: Record<string, unknown> }>()
        .selectFrom('embedded_secret_versions')
        .selectAll()
        .where('path', '=', path)
        .where('version', '=', version)
        .executeTakeFirstOrThrow();
    const update = async (path: string, version: number, values: Record<string, unknown>) =>
      (await operational()).db
        .withTables<{ embedded_secret_versions: Record<string, unknown> }>()
        .updateTable('embedded_secret_versions')
        .set(values)
        .where('path', '=', path)
        .where('version', '=', version)
        .execute();

    it('stores no plaintext in any column', async () => {
      const store = await openStore();
      const value = canaryValue('at-rest');
      const path = `at-rest/${randomBytes(4).toString('hex')}`;
      await store.put(path, new SecretValue(value), { stage: 'current', metadata: { providerKeyId: 'key_1' } });
      const row = await rowOf(path, 1);
      expect(JSON.stringify(row)).not.toContain(value);
      expect(Buffer.from(String(row.ciphertext), 'base64').includes(Buffer.from(value))).toBe(false);
      expect(row.master_key_id).toBe(keyring.active.id);
    });

    it('fails with E_SECRET_TAMPERED on a tampered ciphertext or wrapped key, and never shows the value', async () => {
      const store = await openStore();
      const value = canaryValue('tamper');
      const path = `tamper/${randomBytes(4).toString('hex')}`;
      await store.put(path, new SecretValue(value), { stage: 'current' });
      const original = await rowOf(path, 1);
      for (const column of ['ciphertext', 'wrapped_key'] as const) {
        const bytes = Buffer.from(String(original[column]), 'base64');
        bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x80;
        await update(path, 1, { [column]: bytes.toString('base64') });
        const error = await store.get(path).catch((caught: unknown) => caught);
        expect(error).toMatchObject({ code: 'E_SECRET_TAMPERED' });
        expectErrorFreeOf(error, value);
        await update(path, 1, { [column]: original[column] });
      }
      expect((await store.get(path))?.value.reveal()).toBe(value);
    });

    it('fails with E_SECRET_TAMPERED when a version row is swapped into another row', async () => {
      const store = await openStore();
      const path = `swap/${randomBytes(4).toString('hex')}`;
      const other = `swap/${randomBytes(4).toString('hex')}`;
      await store.put(path, new SecretValue(canaryValue('one')), { stage: 'current' });
      await store.put(path, new SecretValue(canaryValue('two')), { stage: 'pending' });
      await store.put(other, new SecretValue(canaryValue('three')), { stage: 'current' });
      const second = await rowOf(path, 2);
      const foreign = await rowOf(other, 1);
      // Another version of the same path...
      await update(path, 1, { ciphertext: second.ciphertext, wrapped_key: second.wrapped_key });
      await expect(store.get(path)).rejects.toMatchObject({ code: 'E_SECRET_TAMPERED' });
      // ...or the same version number of another path.
      await update(path, 1, { ciphertext: foreign.ciphertext, wrapped_key: foreign.wrapped_key });
      await expect(store.get(path)).rejects.toMatchObject({ code: 'E_SECRET_TAMPERED' });
    });

    it('refuses to read under a wrong master key', async () => {
      const path = `wrong-key/${randomBytes(4).toString('hex')}`;
      await (await openStore()).put(path, new SecretValue(canaryValue()), { stage: 'current' });
      const stranger = new MasterKeyring(masterKeyFromBytes(randomBytes(32), 'test'));
      await expect((await openStore(stranger)).get(path)).rejects.toMatchObject({ code: 'E_MASTER_KEY' });
      // A row claiming the stranger's id still cannot be opened by the stranger's key.
      await update(path, 1, { master_key_id: stranger.active.id });
      await expect((await openStore(stranger)).get(path)).rejects.toMatchObject({ code: 'E_SECRET_TAMPERED' });
    });

    it('numbers versions without gaps or duplicates and keeps one holder per stage under ten racing writers', async () => {
      // On PostgreSQL two stores over separate connection pools, as two replicas would have. Two SQLite handles in
      // one process would deadlock (a blocked BEGIN IMMEDIATE stalls the event loop the other one needs), so there
      // both stores share the process's one handle, as they would in production.
      const database = await backend.createDatabase();
      const one = await database.open();
      const two = backend.dialect === 'postgres' ? await database.open() : one;
      const stores = [one, two].map(
        (opened) => new EmbeddedSecretStore({ db: opened.db, keys: staticMasterKeySource(keyring) }),
      );
      const path = `race/${randomBytes(4).toString('hex')}`;
      const written = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          stores[index % 2]!.put(path, new SecretValue(canaryValue()), {
            stage: index % 3 === 0 ? 'pending' : 'current',
          }),
        ),
      );
      expect(new Set(written.map((version) => version.versionId)).size).toBe(10);
      const versions = await stores[0]!.versions(path);
      expect(versions.map((version) => Number(version.versionId))).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      for (const stage of ['pending', 'current', 'previous'] as const) {
        expect(versions.filter((version) => version.stages.includes(stage))).toHaveLength(1);
      }
      await Promise.all([stores[0]!.promote(path), stores[1]!.promote(path)]);
      const after = await stores[1]!.versions(path);
      expect(after.filter((version) => version.stages.length > 0).map((version) => version.stages)).toHaveLength(2);
      expect(await stores[0]!.get(path, 'pending')).toBeNull();
    });

    it('deletes a discarded pending version and prunes old unstaged versions', async () => {
      const db = (await operational()).db;
      const store = new EmbeddedSecretStore({ db, keys: staticMasterKeySource(keyring), maxVersions: 3 });
      const path = `prune/${randomBytes(4).toString('hex')}`;
      await store.put(path, new SecretValue(canaryValue()), { stage: 'current' });
      await store.put(path, new SecretValue(canaryValue()), { stage: 'pending' });
      await store.discardPending(path);
      expect((await store.versions(path)).map((version) => version.versionId)).toEqual(['1']);
      for (let round = 0; round < 4; round += 1) {
        await store.put(path, new SecretValue(canaryValue()), { stage: 'pending' });
        await store.promote(path);
      }
      const versions = await store.versions(path);
      expect(versions.map((version) => [version.versionId, version.stages])).toEqual([
        ['6', ['current']],
        ['5', ['previous']],
        ['4', []],
      ]);
    });
  });
});
