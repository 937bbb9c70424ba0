// The app paces a provider against the budget shared by a fleet's replicas on PostgreSQL (src/db/shared-rate-budget.ts,
// through the provider context's `rateLimiterFor`), and against the adapter's own token bucket on SQLite.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { GIT_TEST_ENV, makeRegistry } from '../registry/test-support/registry-fixtures.js';
import { systemClock } from '../runtime/clock.js';
import { type RunningSandbox, startSandbox } from '../sandbox/start-sandbox.js';
import { openKeyledgerApp } from './keyledger-app.js';

let sandbox: RunningSandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ org: 'none', providers: ['datadog'], rateLimits: 'off' });
});
afterAll(async () => {
  await sandbox?.stop();
});

forEachBackend((backend) => {
  it(`paces a provider's calls by ${backend.dialect === 'postgres' ? 'the shared budget' : 'its own bucket'}`, async () => {
    const database = await backend.createDatabase();
    const registry = await makeRegistry({ '.gitignore': '.keyledger/\n', 'keys/.gitkeep': '' }, { git: true });
    const providersFile = join(registry, '.keyledger-providers.json');
    await writeFile(
      providersFile,
      JSON.stringify({
        datadog: { ...sandbox.providerOptions('datadog'), rateLimit: { requests: 50, perSeconds: 1 } },
      }),
    );
    const env = {
      ...process.env,
      ...GIT_TEST_ENV,
      KEYLEDGER_DATA_DIR: database.options.dataDir,
      KEYLEDGER_DATABASE_URL: database.options.databaseUrl ?? '',
      KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
      KEYLEDGER_PROVIDERS_FILE: providersFile,
    };
    const app = await openKeyledgerApp({ registryDir: registry, env, cwd: registry, clock: systemClock });
    try {
      for await (const _key of app.provider('datadog').list()) break;
      const budgets = await app.operational.db.selectFrom('rate_budgets').selectAll().execute();
      if (backend.dialect === 'postgres') {
        expect(budgets.map((row) => row.budget)).toEqual(['provider:datadog']);
        expect(Number(budgets[0]!.last_granted)).toBeGreaterThan(0);
      } else {
        expect(budgets).toEqual([]);
      }
    } finally {
      await app.close();
    }
  });
});
