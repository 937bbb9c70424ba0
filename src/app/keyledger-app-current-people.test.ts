// An app that stays open (the server) judges owners by the directory as it is now: a SCIM deprovisioning recorded
// after the app opened — here through another DirectoryStore, as another replica's SCIM endpoint would — makes the
// owner's key due with trigger owner-left without reopening the app.
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { DirectoryStore } from '../directory/directory-store.js';
import { GIT_TEST_ENV, makeRegistry, SEED_EXAMPLE } from '../registry/test-support/registry-fixtures.js';
import { fixedClock } from '../runtime/clock.js';
import { openKeyledgerApp } from './keyledger-app.js';

forEachBackend((backend) => {
  it('sees an owner deprovisioned after it opened in the owner-left trigger', async () => {
    const database = await backend.createDatabase();
    const registry = await makeRegistry(
      { '.gitignore': '.keyledger/\n', 'keys/payments-stripe-live.yaml': SEED_EXAMPLE },
      { git: true },
    );
    const clock = fixedClock('2026-11-01T00:00:00.000Z');
    const app = await openKeyledgerApp({
      registryDir: registry,
      env: {
        ...process.env,
        ...GIT_TEST_ENV,
        KEYLEDGER_DATA_DIR: database.options.dataDir,
        KEYLEDGER_DATABASE_URL: database.options.databaseUrl ?? '',
        KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
      },
      cwd: registry,
      clock,
    });
    try {
      const { controller } = app.rotation();
      expect(await controller.findDue()).toEqual([]);
      await new DirectoryStore({ db: app.operational.db, clock }).apply({
        signalId: 'scim:alice-deleted',
        source: 'scim',
        email: 'alice@example.com',
        status: 'deprovisioned',
        at: '2026-10-31T09:00:00.000Z',
      });
      // The same controller instance, built before the signal: it reads the people at each detection.
      expect(await controller.findDue()).toEqual([
        expect.objectContaining({ keyId: 'payments-stripe-live-001', trigger: 'owner-left' }),
      ]);
      expect((await app.people())?.find('alice@example.com')?.status).toBe('left');
    } finally {
      await app.close();
    }
  });
});
