// The one specification every SecretStore passes (STYLE habit 2). A store's test file calls
// `describeSecretStoreContract(name, openStore)`; the suite writes under fresh random paths, so one backend can
// serve every case. Values are canaries: a test fails if one ever shows up in an error.
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KeyledgerError } from '../../errors/keyledger-error.js';
import type { SecretStage, SecretStore, SecretVersion } from '../secret-store.js';
import { writeProbePath } from '../secret-store-probe.js';
import { SecretValue } from '../secret-value.js';

export type OpenSecretStore = () => SecretStore | Promise<SecretStore>;

/** A value unlike any other in the run, recognisable if it leaks. */
export function canaryValue(label = 'canary'): string {
  return `kl_${label}_CANARY_${randomBytes(12).toString('hex')}`;
}

function freshPath(): string {
  return `contract/${randomBytes(6).toString('hex')}/api-key`;
}

function stagesOf(versions: SecretVersion[]): Array<[string, SecretStage[]]> {
  return versions.map((version) => [version.versionId, [...version.stages].sort()]);
}

/** Every way an error can be turned into text, none of which may contain `secret`. */
export function expectErrorFreeOf(error: unknown, secret: string): void {
  const texts = [
    String(error),
    error instanceof Error ? (error.stack ?? '') : '',
    inspect(error, { depth: 6 }),
    error instanceof KeyledgerError ? JSON.stringify(error.toJSON()) : JSON.stringify(error),
  ];
  for (const text of texts) expect(text).not.toContain(secret);
}

async function captureError(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

export function describeSecretStoreContract(name: string, openStore: OpenSecretStore): void {
  describe(`SecretStore contract: ${name}`, () => {
    it('writes a current version and reads it back with its metadata', async () => {
      const store = await openStore();
      const path = freshPath();
      const value = canaryValue();
      const written = await store.put(path, new SecretValue(value), {
        stage: 'current',
        metadata: { providerKeyId: 'key_1' },
      });
      expect(written.stages).toEqual(['current']);
      expect(written.metadata).toEqual({ providerKeyId: 'key_1' });
      const read = await store.get(path);
      expect(read?.value.reveal()).toBe(value);
      expect(read?.versionId).toBe(written.versionId);
      expect(read?.stages).toEqual(['current']);
      expect(read?.metadata).toEqual({ providerKeyId: 'key_1' });
      expect(read?.createdAt).toBeInstanceOf(Date);
      expect(Number.isNaN(read!.createdAt.getTime())).toBe(false);
      expect(await store.exists(path)).toBe(true);
    });

    it('answers null, false and empty for a path that was never written', async () => {
      const store = await openStore();
      const path = freshPath();
      expect(await store.get(path)).toBeNull();
      expect(await store.get(path, 'pending')).toBeNull();
      expect(await store.get(path, 'previous')).toBeNull();
      expect(await store.exists(path)).toBe(false);
      expect(await store.versions(path)).toEqual([]);
    });

    it('keeps a pending version beside the current one until it is promoted', async () => {
      const store = await openStore();
      const path = freshPath();
      const oldValue = canaryValue('old');
      const newValue = canaryValue('new');
      const current = await store.put(path, new SecretValue(oldValue), { stage: 'current' });
      const pending = await store.put(path, new SecretValue(newValue), {
        stage: 'pending',
        metadata: { rotation: 'r1' },
      });
      expect(pending.versionId).not.toBe(current.versionId);
      expect(pending.stages).toEqual(['pending']);
      expect((await store.get(path))?.value.reveal()).toBe(oldValue);
      const readPending = await store.get(path, 'pending');
      expect(readPending?.value.reveal()).toBe(newValue);
      expect(readPending?.metadata).toEqual({ rotation: 'r1' });
      expect(await store.get(path, 'previous')).toBeNull();
    });

    it('counts only a current version as existing', async () => {
      const store = await openStore();
      const path = freshPath();
      await store.put(path, new SecretValue(canaryValue()), { stage: 'pending' });
      expect(await store.exists(path)).toBe(false);
      expect(await store.get(path)).toBeNull();
      expect((await store.get(path, 'pending'))?.stages).toEqual(['pending']);
    });

    it('promotes pending to current and current to previous, dropping the old previous', async () => {
      const store = await openStore();
      const path = freshPath();
      const [first, second, third] = [canaryValue('v1'), canaryValue('v2'), canaryValue('v3')];
      const v1 = await store.put(path, new SecretValue(first), { stage: 'current' });
      const v2 = await store.put(path, new SecretValue(second), { stage: 'pending' });
      const promoted = await store.promote(path);
      expect(promoted.versionId).toBe(v2.versionId);
      expect(promoted.stages).toEqual(['current']);
      expect((await store.get(path))?.value.reveal()).toBe(second);
      expect((await store.get(path, 'previous'))?.value.reveal()).toBe(first);
      expect(await store.get(path, 'pending')).toBeNull();

      const v3 = await store.put(path, new SecretValue(third), { stage: 'pending' });
      await store.promote(path);
      expect((await store.get(path))?.value.reveal()).toBe(third);
      expect((await store.get(path, 'previous'))?.versionId).toBe(v2.versionId);
      const versions = await store.versions(path);
      expect(stagesOf(versions).slice(0, 2)).toEqual([
        [v3.versionId, ['current']],
        [v2.versionId, ['previous']],
      ]);
      // The first version may still be listed (Vault keeps it), but holds no stage any more.
      for (const version of versions.slice(2)) {
        expect(version.versionId).toBe(v1.versionId);
        expect(version.stages).toEqual([]);
      }
    });

    it('treats promote with nothing pending as a no-op returning the current version', async () => {
      const store = await openStore();
      const path = freshPath();
      const value = canaryValue();
      const v1 = await store.put(path, new SecretValue(value), { stage: 'current' });
      const result = await store.promote(path);
      expect(result.versionId).toBe(v1.versionId);
      expect(result.stages).toContain('current');
      expect((await store.get(path))?.value.reveal()).toBe(value);
      expect(await store.get(path, 'previous')).toBeNull();
    });

    it('promotes a first pending version on a path with no current one', async () => {
      const store = await openStore();
      const path = freshPath();
      const value = canaryValue();
      const pending = await store.put(path, new SecretValue(value), { stage: 'pending' });
      const promoted = await store.promote(path);
      expect(promoted.versionId).toBe(pending.versionId);
      expect((await store.get(path))?.value.reveal()).toBe(value);
      expect(await store.get(path, 'previous')).toBeNull();
    });

    it('refuses to promote a path that does not exist with E_SECRET_NOT_FOUND', async () => {
      const store = await openStore();
      await expect(store.promote(freshPath())).rejects.toMatchObject({ code: 'E_SECRET_NOT_FOUND' });
    });

    it('discards a pending version and leaves current untouched', async () => {
      const store = await openStore();
      const path = freshPath();
      const value = canaryValue('keep');
      const current = await store.put(path, new SecretValue(value), { stage: 'current' });
      await store.put(path, new SecretValue(canaryValue('drop')), { stage: 'pending' });
      await store.discardPending(path);
      expect(await store.get(path, 'pending')).toBeNull();
      const read = await store.get(path);
      expect(read?.versionId).toBe(current.versionId);
      expect(read?.value.reveal()).toBe(value);
      expect((await store.versions(path)).some((version) => version.stages.includes('pending'))).toBe(false);
      // Nothing pending, or no secret at all: still no error, so a rollback can be retried.
      await store.discardPending(path);
      await store.discardPending(freshPath());
    });

    it('moves a stage away from its old holder when a new version takes it', async () => {
      const store = await openStore();
      const path = freshPath();
      const v1 = await store.put(path, new SecretValue(canaryValue('a')), { stage: 'current' });
      const p1 = await store.put(path, new SecretValue(canaryValue('b')), { stage: 'pending' });
      const p2 = await store.put(path, new SecretValue(canaryValue('c')), { stage: 'pending' });
      expect((await store.get(path, 'pending'))?.versionId).toBe(p2.versionId);
      const staged = (await store.versions(path)).filter((version) => version.stages.length > 0);
      expect(stagesOf(staged)).toEqual([
        [p2.versionId, ['pending']],
        [v1.versionId, ['current']],
      ]);
      expect(staged.some((version) => version.versionId === p1.versionId)).toBe(false);
    });

    it('demotes the old current to previous when a new version is written as current', async () => {
      const store = await openStore();
      const path = freshPath();
      const first = canaryValue('first');
      const second = canaryValue('second');
      const v1 = await store.put(path, new SecretValue(first), { stage: 'current' });
      const v2 = await store.put(path, new SecretValue(second), { stage: 'current' });
      expect((await store.get(path))?.value.reveal()).toBe(second);
      expect((await store.get(path, 'previous'))?.versionId).toBe(v1.versionId);
      expect(stagesOf(await store.versions(path))).toEqual([
        [v2.versionId, ['current']],
        [v1.versionId, ['previous']],
      ]);
    });

    it('lists versions newest first, with metadata and without values', async () => {
      const store = await openStore();
      const path = freshPath();
      const value = canaryValue();
      const v1 = await store.put(path, new SecretValue(value), { stage: 'current', metadata: { n: '1' } });
      const v2 = await store.put(path, new SecretValue(canaryValue()), { stage: 'pending', metadata: { n: '2' } });
      const versions = await store.versions(path);
      expect(versions.map((version) => version.versionId)).toEqual([v2.versionId, v1.versionId]);
      expect(versions.map((version) => version.metadata)).toEqual([{ n: '2' }, { n: '1' }]);
      expect(versions[0]!.createdAt.getTime()).toBeGreaterThanOrEqual(versions[1]!.createdAt.getTime());
      for (const version of versions) expect('value' in version).toBe(false);
      expect(JSON.stringify(versions)).not.toContain(value);
    });

    it('round-trips metadata and values of every shape', async () => {
      const store = await openStore();
      const path = freshPath();
      const metadata = {
        providerKeyId: 'AKIA0000EXAMPLE',
        rotationId: 'rot_2026-04-01T10:00:00Z',
        note: 'ünïcødé ✓',
        empty: '',
      };
      const value = `${canaryValue()}\n{"json": true}\tünïcødé ✓ ${'x'.repeat(2048)}`;
      await store.put(path, new SecretValue(value), { stage: 'current', metadata });
      const read = await store.get(path);
      expect(read?.value.reveal()).toBe(value);
      expect(read?.metadata).toEqual(metadata);
      expect((await store.versions(path))[0]?.metadata).toEqual(metadata);
      const bare = freshPath();
      await store.put(bare, new SecretValue(canaryValue()), { stage: 'current' });
      expect((await store.get(bare))?.metadata).toEqual({});
    });

    it('deletes a secret with every version, and deleting a missing path is not an error', async () => {
      const store = await openStore();
      const path = freshPath();
      await store.put(path, new SecretValue(canaryValue()), { stage: 'current' });
      await store.put(path, new SecretValue(canaryValue()), { stage: 'pending' });
      await store.delete(path);
      expect(await store.get(path)).toBeNull();
      expect(await store.get(path, 'pending')).toBeNull();
      expect(await store.exists(path)).toBe(false);
      expect(await store.versions(path)).toEqual([]);
      await store.delete(path);
      await store.delete(freshPath());
      // The path can be written again from scratch.
      const value = canaryValue();
      await store.put(path, new SecretValue(value), { stage: 'current' });
      expect((await store.get(path))?.value.reveal()).toBe(value);
    });

    it('returns the same version when a put is retried with the same idempotency token', async () => {
      const store = await openStore();
      const path = freshPath();
      const value = canaryValue();
      const token = `rotation-${randomBytes(8).toString('hex')}-store-new-key`;
      await store.put(path, new SecretValue(canaryValue('base')), { stage: 'current' });
      const first = await store.put(path, new SecretValue(value), {
        stage: 'pending',
        idempotencyToken: token,
        metadata: { a: '1' },
      });
      const retried = await store.put(path, new SecretValue(value), {
        stage: 'pending',
        idempotencyToken: token,
        metadata: { a: '1' },
      });
      expect(retried.versionId).toBe(first.versionId);
      expect(retried.stages).toEqual(['pending']);
      expect(await store.versions(path)).toHaveLength(2);
      const other = await store.put(path, new SecretValue(value), { stage: 'pending', idempotencyToken: `${token}-2` });
      expect(other.versionId).not.toBe(first.versionId);
    });

    it('refuses an idempotency token reused for a different value, without naming either value', async () => {
      const store = await openStore();
      const path = freshPath();
      const token = `issue-${randomBytes(8).toString('hex')}`;
      const value = canaryValue('first');
      const other = canaryValue('second');
      await store.put(path, new SecretValue(value), { stage: 'current', idempotencyToken: token });
      const error = await captureError(() =>
        store.put(path, new SecretValue(other), { stage: 'current', idempotencyToken: token }),
      );
      expect(error).toMatchObject({ code: 'E_SECRET_CONFLICT' });
      expectErrorFreeOf(error, value);
      expectErrorFreeOf(error, other);
      expect((await store.get(path))?.value.reveal()).toBe(value);
    });

    it('loses no stage when two puts race on one path', async () => {
      const store = await openStore();
      const path = freshPath();
      const [a, b] = [canaryValue('a'), canaryValue('b')];
      const [va, vb] = await Promise.all([
        store.put(path, new SecretValue(a), { stage: 'current' }),
        store.put(path, new SecretValue(b), { stage: 'current' }),
      ]);
      // Whichever landed second is current and the other previous; neither vanished.
      const staged = stagesOf(await store.versions(path));
      expect(staged).toHaveLength(2);
      expect(new Set(staged.map(([id]) => id))).toEqual(new Set([va.versionId, vb.versionId]));
      expect(staged.map(([, stages]) => stages)).toEqual([['current'], ['previous']]);

      const [p1, p2] = await Promise.all([
        store.put(path, new SecretValue(canaryValue('p1')), { stage: 'pending' }),
        store.put(path, new SecretValue(canaryValue('p2')), { stage: 'pending' }),
      ]);
      const pending = await store.get(path, 'pending');
      expect([p1.versionId, p2.versionId]).toContain(pending?.versionId);
      expect((await store.versions(path)).filter((version) => version.stages.includes('pending'))).toHaveLength(1);
      expect((await store.get(path))?.versionId).toBe(staged[0]![0]);
    });

    it('proves a write beside a path with checkWritable, leaving the path and the probe untouched', async () => {
      const store = await openStore();
      const path = freshPath();
      await store.checkWritable(path);
      expect(await store.versions(path)).toEqual([]);
      const value = canaryValue();
      const written = await store.put(path, new SecretValue(value), { stage: 'current' });
      await store.checkWritable(path);
      expect(stagesOf(await store.versions(path))).toEqual([[written.versionId, ['current']]]);
      expect((await store.get(path))?.value.reveal()).toBe(value);
      expect(await store.exists(writeProbePath(path))).toBe(false);
      expect(await store.versions(writeProbePath(path))).toEqual([]);
      await expect(store.checkWritable('../escape')).rejects.toMatchObject({ code: 'E_SECRET_PATH' });
    });

    it('keeps values out of every error it raises', async () => {
      const store = await openStore();
      const value = canaryValue('leak');
      for (const badPath of ['', '/leading', 'a//b', '../escape', 'spa ce', `long/${'z'.repeat(600)}`]) {
        const error = await captureError(() => store.put(badPath, new SecretValue(value), { stage: 'current' }));
        expect(error).toMatchObject({ code: 'E_SECRET_PATH' });
        expectErrorFreeOf(error, value);
      }
      const missing = await captureError(() => store.promote(freshPath()));
      expectErrorFreeOf(missing, value);
    });
  });
}
