// The registry batcher on its own: rotations recorded together land in one commit; a batch already committed
// makes no commit; an edit left uncommitted by a killed run is committed; a file git does not track yet is added.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runGit } from '../../git/git-command.js';
import { defaultRegistryConfig } from '../../registry/registry-config.js';
import { RegistryWriter } from '../../registry/registry-writer.js';
import { GIT_TEST_ENV, makeRegistry, seedExampleWith } from '../../registry/test-support/registry-fixtures.js';
import { RegistryRotationBatcher } from './registry-rotation-batcher.js';
import { findDueKeys } from './rotation-due.js';
import type { RegistryRotationRecord } from './rotation-registry-update.js';

const roots: string[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
});

const KEYS = ['batch-key-1', 'batch-key-2', 'batch-key-3'];

async function registry(
  files: Record<string, string> = Object.fromEntries(
    KEYS.map((keyId) => [`keys/${keyId}.yaml`, seedExampleWith(keyId)]),
  ),
) {
  const root = await makeRegistry(files, { git: true });
  roots.push(root);
  const writer = new RegistryWriter({ root, config: defaultRegistryConfig(), env: GIT_TEST_ENV });
  const batcher = new RegistryRotationBatcher({ writer, root, gitEnv: GIT_TEST_ENV, lingerMs: 20 });
  return { root, writer, batcher };
}

function record(keyId: string, n = 1): RegistryRotationRecord {
  return {
    keyId,
    rotationId: `rotation-${keyId}-${n}`,
    providerKeyId: `pk-${keyId}-${n}`,
    fingerprint: `hmac-sha256:v1:${String(n).repeat(64).slice(0, 64)}`,
    rotatedAt: new Date('2026-11-20T10:00:00Z'),
    actor: 'test',
    trigger: 'schedule',
  };
}

const commitCount = async (root: string) =>
  Number((await runGit(['rev-list', '--count', 'HEAD'], { cwd: root, env: GIT_TEST_ENV })).trim());
const status = async (root: string) =>
  (await runGit(['status', '--porcelain'], { cwd: root, env: GIT_TEST_ENV })).trim();

describe('RegistryRotationBatcher', () => {
  it('gives the entry its new key’s dates, so an entry due because it expires is no longer due', async () => {
    const { writer, batcher } = await registry();
    const { entry: before } = (await writer.read('batch-key-1'))!;
    const lifetime = Date.parse(before.expiration!) - Date.parse(before.created_at!);
    await batcher.record(record('batch-key-1'));
    const { entry } = (await writer.read('batch-key-1'))!;
    expect(entry.created_at).toBe('2026-11-20T10:00:00Z');
    expect(Date.parse(entry.expiration!) - Date.parse(entry.created_at!)).toBe(lifetime);
    const dueAfter = findDueKeys([{ file: 'keys/batch-key-1.yaml', entry }], {
      now: new Date('2026-11-21T00:00:00Z'),
      expiryWarningDays: 30,
    });
    expect(dueAfter).toEqual([]);
  });

  it('records rotations made together in one commit, leaving the tree clean', async () => {
    const { root, writer, batcher } = await registry();
    const before = await commitCount(root);
    await Promise.all(KEYS.map((keyId) => batcher.record(record(keyId))));
    expect(await commitCount(root)).toBe(before + 1);
    expect(batcher.commits).toBe(1);
    expect(await status(root)).toBe('');
    for (const keyId of KEYS) {
      const { entry } = (await writer.read(keyId))!;
      expect(entry.provider_key_id).toBe(`pk-${keyId}-1`);
      expect(entry.fingerprint).toBe(record(keyId).fingerprint);
      expect(entry.status).toBe('active');
    }
    const message = await runGit(['log', '-1', '--format=%B'], { cwd: root, env: GIT_TEST_ENV });
    expect(message).toContain('keyledger: rotate 3 key(s)');
    expect(message).toContain('batch-key-2: rotation rotation-batch-key-2-1 (schedule)');
  });

  it('makes no commit for rotations the registry already shows', async () => {
    const { root, batcher } = await registry();
    await batcher.record(record(KEYS[0]!));
    const before = await commitCount(root);
    await Promise.all([batcher.record(record(KEYS[0]!)), batcher.record(record(KEYS[0]!))]);
    expect(await commitCount(root)).toBe(before);
    expect(batcher.commits).toBe(1);
  });

  it('commits an edit a killed run wrote but did not commit, and only the listed files', async () => {
    const { root, batcher } = await registry();
    // A killed run's edit: the file already shows the rotation, uncommitted.
    await batcher.record(record(KEYS[0]!));
    const file = join(root, 'keys', `${KEYS[1]}.yaml`);
    const first = await readFile(join(root, 'keys', `${KEYS[0]}.yaml`), 'utf8');
    await writeFile(file, first.replaceAll(KEYS[0]!, KEYS[1]!));
    await writeFile(join(root, 'unrelated.txt'), 'someone else\n');
    const before = await commitCount(root);
    await batcher.record(record(KEYS[1]!));
    expect(await commitCount(root)).toBe(before + 1);
    expect(await status(root)).toBe('?? unrelated.txt');
  });

  it('adds an entry file git does not track yet', async () => {
    const { root, batcher } = await registry();
    await writeFile(join(root, 'keys', 'batch-key-new.yaml'), seedExampleWith('batch-key-new'));
    const before = await commitCount(root);
    await batcher.record(record('batch-key-new'));
    expect(await commitCount(root)).toBe(before + 1);
    expect(await status(root)).toBe('');
  });

  it('finds entries outside the conventional place (keys/<team>/) through the writer', async () => {
    const { root, writer, batcher } = await registry({
      'keys/platform/team-key.yaml': seedExampleWith('team-key'),
      'keys/team-key.yaml': seedExampleWith('other-key'),
    });
    await batcher.record(record('team-key'));
    expect((await writer.read('team-key'))!.entry.provider_key_id).toBe('pk-team-key-1');
    expect((await writer.read('other-key'))!.entry.provider_key_id).toBeUndefined();
    expect(await status(root)).toBe('');
  });

  it('commits a batch whose message is longer than one command-line argument may be (128 KB)', async () => {
    const keyIds = Array.from(
      { length: 1_000 },
      (_, index) => `a-rather-long-key-id-to-reach-the-limit-on-one-argument-${index}`,
    );
    const root = await makeRegistry(
      Object.fromEntries(keyIds.map((keyId) => [`keys/${keyId}.yaml`, seedExampleWith(keyId)])),
      { git: true },
    );
    roots.push(root);
    const writer = new RegistryWriter({ root, config: defaultRegistryConfig(), env: GIT_TEST_ENV });
    const batcher = new RegistryRotationBatcher({ writer, root, gitEnv: GIT_TEST_ENV, lingerMs: 50, maxBatch: 5_000 });
    const before = await commitCount(root);
    await Promise.all(keyIds.map((keyId) => batcher.record(record(keyId))));
    expect(await commitCount(root)).toBe(before + 1);
    expect(await status(root)).toBe('');
    const message = await runGit(['log', '-1', '--format=%B'], { cwd: root, env: GIT_TEST_ENV });
    expect(message.length).toBeGreaterThan(128 * 1024);
  }, 60_000);

  it('rejects a rotation whose key left the registry, and still commits the rest of its batch on retry', async () => {
    const { root, batcher } = await registry();
    await expect(
      Promise.all([batcher.record(record('no-such-key')), batcher.record(record(KEYS[0]!))]),
    ).rejects.toThrow(/no-such-key|registry batch/);
    await batcher.record(record(KEYS[0]!));
    expect(await status(root)).toBe('');
  });
});
