// Two replicas of the app over one database and one registry remote, each with its own clone: a write through one
// replica's writer is pushed before it returns, and the other replica, opened afterwards, reads it (the app pulls
// when the remote moved). Both engines.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { GIT_TEST_ENV } from '../registry/test-support/registry-fixtures.js';
import {
  cloneRemote,
  entryText,
  gitIn,
  makeBareRemote,
  removeRemoteTestDirectories,
} from '../registry/test-support/remote-fixtures.js';
import { fixedClock } from '../runtime/clock.js';
import { openKeyledgerApp } from './keyledger-app.js';

forEachBackend((backend) => {
  it('a write through one replica is on the remote when it returns, and the next replica to open reads it', async () => {
    const database = await backend.createDatabase();
    const remote = await makeBareRemote({ '.gitignore': '.keyledger/\n', 'keys/k1.yaml': entryText('k1') });
    const [a, b] = [await cloneRemote(remote), await cloneRemote(remote)];
    const env = {
      ...process.env,
      ...GIT_TEST_ENV,
      KEYLEDGER_DATABASE_URL: database.options.databaseUrl ?? '',
      KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
      KEYLEDGER_FINGERPRINT_KEY: randomBytes(32).toString('base64'),
      KEYLEDGER_REGISTRY_REMOTE: remote,
      KEYLEDGER_REGISTRY_PULL_SECONDS: '0',
    };
    const open = (root: string) =>
      openKeyledgerApp({
        registryDir: root,
        env: { ...env, KEYLEDGER_DATA_DIR: database.options.dataDir ?? join(root, '.keyledger') },
        cwd: root,
        clock: fixedClock('2026-11-01T00:00:00.000Z'),
      });
    try {
      const first = await open(a);
      try {
        expect(first.remote?.settings.url).toBe(remote);
        const result = await first.writer.update('k1', { description: 'written by replica a' });
        expect(result.commit).toBe(await gitIn(remote, 'rev-parse', 'main'));
      } finally {
        await first.close();
      }
      const second = await open(b);
      try {
        expect(await readFile(join(b, 'keys/k1.yaml'), 'utf8')).toContain('description: written by replica a');
        expect((await second.writer.read('k1'))?.entry.description).toBe('written by replica a');
      } finally {
        await second.close();
      }
    } finally {
      await removeRemoteTestDirectories();
    }
  }, 120_000);
});
