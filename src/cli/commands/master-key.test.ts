// `keyledger master-key status` and `rotate`, run in-process against a real SQLite store and key file.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openOperationalStore } from '../../db/operational-store.js';
import { createSecretStore } from '../../secrets/secret-store-table.js';
import { SecretValue } from '../../secrets/secret-value.js';
import { canaryValue } from '../../secrets/test-support/secret-store-contract.js';
import { runCli } from '../test-support/run-cli.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keyledger-master-key-cli-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const baseEnv = () => ({
  KEYLEDGER_DATA_DIR: join(dir, 'data'),
  KEYLEDGER_DATABASE_URL: '',
  KEYLEDGER_MASTER_KEY: '',
  KEYLEDGER_MASTER_KEY_RETIRING: '',
});

async function seed(env: NodeJS.ProcessEnv, count: number): Promise<Map<string, string>> {
  const operational = await openOperationalStore({ dataDir: join(dir, 'data') });
  const values = new Map<string, string>();
  try {
    const store = createSecretStore('embedded', {}, { env, cwd: dir, operationalDb: operational.db });
    for (let index = 0; index < count; index += 1) {
      const value = canaryValue();
      await store.put(`cli/${index}`, new SecretValue(value), { stage: 'current' });
      values.set(`cli/${index}`, value);
    }
  } finally {
    await operational.close();
  }
  return values;
}

async function readAll(env: NodeJS.ProcessEnv, values: Map<string, string>): Promise<void> {
  const operational = await openOperationalStore({ dataDir: join(dir, 'data') });
  try {
    const store = createSecretStore('embedded', {}, { env, cwd: dir, operationalDb: operational.db });
    for (const [path, value] of values) expect((await store.get(path))?.value.reveal()).toBe(value);
  } finally {
    await operational.close();
  }
}

describe('keyledger master-key', () => {
  it('says there is no key yet before anything was stored, and refuses to rotate nothing', async () => {
    const status = await runCli(['master-key', 'status'], { cwd: dir, env: baseEnv() });
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(status.stdout).toContain('no master key yet');
    const rotate = await runCli(['master-key', 'rotate'], { cwd: dir, env: baseEnv() });
    expect(rotate.code).toBe(2);
    expect(rotate.stderr).toContain('E_MASTER_KEY: no master key at');
  });

  it('rotates the key file, re-wraps every row and reports it, as text and JSON', async () => {
    const env = baseEnv();
    const values = await seed(env, 3);
    const before = JSON.parse((await runCli(['master-key', 'status', '--json'], { cwd: dir, env })).stdout);
    expect(before.keys).toEqual([{ id: before.activeKeyId, state: 'active', versions: 3 }]);

    const rotated = await runCli(['master-key', 'rotate', '--json', '--batch-size', '2'], { cwd: dir, env });
    expect(rotated).toMatchObject({ code: 0, stderr: '' });
    const report = JSON.parse(rotated.stdout);
    expect(report).toMatchObject({
      previousActiveKeyId: before.activeKeyId,
      generated: true,
      rewrapped: 3,
      failed: [],
      retiredKeyIds: [before.activeKeyId],
    });
    for (const value of values.values()) expect(rotated.stdout).not.toContain(value);

    const text = await runCli(['master-key', 'status'], { cwd: dir, env });
    expect(text.stdout).toMatch(new RegExp(`${report.activeKeyId}\\s+active\\s+3`));
    expect(text.stdout).not.toContain(before.activeKeyId);
    await readAll(env, values);

    const events = await runCli(['events', '--type', 'master_key.rotated', '--json'], { cwd: dir, env });
    const logged = JSON.parse(events.stdout).events;
    expect(logged).toHaveLength(1);
    expect(logged[0].data).toEqual({
      source: 'file',
      previousActiveKeyId: before.activeKeyId,
      activeKeyId: report.activeKeyId,
      rewrapped: 3,
      failed: 0,
      retiredKeyIds: [before.activeKeyId],
    });

    const again = await runCli(['master-key', 'rotate'], { cwd: dir, env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`master key rotated: ${report.activeKeyId} → `);
    expect(again.stdout).toContain('re-wrapped 3 data keys');
  });

  it('re-wraps to a key from the environment and tells the operator what to remove', async () => {
    const oldKey = randomBytes(32).toString('base64');
    const values = await seed({ ...baseEnv(), KEYLEDGER_MASTER_KEY: oldKey }, 2);
    const env = {
      ...baseEnv(),
      KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
      KEYLEDGER_MASTER_KEY_RETIRING: oldKey,
    };
    const rotated = await runCli(['master-key', 'rotate'], { cwd: dir, env });
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain('re-wrapped 2 data keys');
    expect(rotated.stdout).toContain('remove KEYLEDGER_MASTER_KEY_RETIRING from the environment');
    expect(rotated.stdout).not.toContain(oldKey);
    await readAll({ ...env, KEYLEDGER_MASTER_KEY_RETIRING: '' }, values);
  });

  it('exits 1 when a row names a key the keyring does not hold, and 2 on a bad flag', async () => {
    const oldKey = randomBytes(32).toString('base64');
    await seed({ ...baseEnv(), KEYLEDGER_MASTER_KEY: oldKey }, 1);
    const env = { ...baseEnv(), KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64') };
    const status = await runCli(['master-key', 'status'], { cwd: dir, env });
    expect(status.code).toBe(1);
    expect(status.stdout).toContain('which the keyring does not hold');
    const bad = await runCli(['master-key', 'rotate', '--batch-size', 'lots'], { cwd: dir, env });
    expect(bad.code).toBe(2);
  });
});
