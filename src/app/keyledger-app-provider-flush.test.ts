// The app flushes the adapters it opened when it closes: the internal provider's last uses that waited in memory
// (written at most once a minute per key, src/providers/internal/internal-provider.ts) reach the store before it
// closes, so a server that verified its API tokens on every request loses none of their last uses. Both engines.
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { GIT_TEST_ENV, makeRegistry } from '../registry/test-support/registry-fixtures.js';
import { fixedClock } from '../runtime/clock.js';
import { openKeyledgerApp } from './keyledger-app.js';

forEachBackend((backend) => {
  it("writes the internal provider's pending last uses at close", async () => {
    const database = await backend.createDatabase();
    const registry = await makeRegistry({ '.gitignore': '.keyledger/\n', 'keys/.gitkeep': '' }, { git: true });
    const env = {
      ...process.env,
      ...GIT_TEST_ENV,
      KEYLEDGER_DATA_DIR: database.options.dataDir,
      KEYLEDGER_DATABASE_URL: database.options.databaseUrl ?? '',
      KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
    };
    const clock = fixedClock('2026-11-01T00:00:00.000Z');
    const open = () => openKeyledgerApp({ registryDir: registry, env, cwd: registry, clock });
    const app = await open();
    const lastUsedOf = async (db: typeof app.operational.db, id: string) =>
      (await db.selectFrom('internal_keys').select('last_used_at').where('id', '=', id).executeTakeFirstOrThrow())
        .last_used_at;
    let id: string;
    try {
      const internal = app.provider('internal');
      const created = await internal.create({ name: 'api-token' });
      id = created.providerKeyId;
      expect((await internal.verify(created.secret)).valid).toBe(true);
      clock.advance(10_000);
      expect((await internal.verify(created.secret)).valid).toBe(true);
      // The second use waits in memory.
      expect(await lastUsedOf(app.operational.db, id)).toBe('2026-11-01T00:00:00.000Z');
    } finally {
      await app.close();
    }
    const reopened = await open();
    try {
      expect(await lastUsedOf(reopened.operational.db, id)).toBe('2026-11-01T00:00:10.000Z');
    } finally {
      await reopened.close();
    }
  });
});
