// `keyledger offboard` over the directory store (src/directory/directory-store.ts) on both engines: the HR file's
// leavers are fed in as signals (pending until someone listens), `offboard EMAIL` records a manual departure in
// the store, `--reconcile --dry-run` changes nothing (not even the directory), `--reconcile` offboards the HR
// file's leaver and leaves no departure pending, and a second run offboards nobody.
import { describe, expect, it } from 'vitest';
import { openKeyledgerApp } from '../../app/keyledger-app.js';
import { forEachBackend, type TestDatabase } from '../../db/test-support/test-databases.js';
import { directoryFor } from '../../directory/directory-store.js';
import { OffboardingJobs } from '../../offboarding/offboarding-jobs.js';
import { GIT_TEST_ENV, makeRegistry } from '../../registry/test-support/registry-fixtures.js';
import { fixedClock } from '../../runtime/clock.js';
import { runCli } from '../test-support/run-cli.js';

const PEOPLE = `email,name,team,status,left_at
ada@example.com,Ada,platform,active,
bob@example.com,Bob,payments,left,2026-10-01
cyd@example.com,Cyd,payments,active,
`;
const NOW = '2026-12-07T12:00:00.000Z';

async function setUp(database: TestDatabase) {
  const registry = await makeRegistry(
    {
      '.gitignore': '.keyledger/\n',
      'keys/.gitkeep': '',
      'keyledger.config.yaml': 'policy:\n  people_directory: people.csv\n',
      'people.csv': PEOPLE,
    },
    { git: true },
  );
  const env = {
    ...GIT_TEST_ENV,
    KEYLEDGER_DATA_DIR: database.options.dataDir,
    KEYLEDGER_DATABASE_URL: database.options.databaseUrl ?? '',
    KEYLEDGER_REGISTRY: registry,
  };
  const cli = (...args: string[]) => runCli(args, { cwd: registry, env, now: NOW });
  /** Reads the store the CLI wrote, as a separate process would. */
  const inStore = async <T>(read: (app: Awaited<ReturnType<typeof openKeyledgerApp>>) => Promise<T>): Promise<T> => {
    const app = await openKeyledgerApp({ registryDir: registry, env, cwd: registry, clock: fixedClock(NOW) });
    try {
      return await read(app);
    } finally {
      await app.close();
    }
  };
  return { cli, inStore };
}

const pending = (app: Awaited<ReturnType<typeof openKeyledgerApp>>) =>
  app.operational.db
    .selectFrom('directory_signals')
    .select(['email', 'source'])
    .where('departure_pending', '=', 1)
    .orderBy('email')
    .execute();

forEachBackend((backend) => {
  describe('offboard over the directory store', () => {
    it('records a manual departure, feeds the HR file, and reconciles its leaver once', async () => {
      const { cli, inStore } = await setUp(await backend.createDatabase());

      const one = await cli('offboard', 'cyd@example.com', '--json');
      expect(one.stderr).toBe('');
      expect(JSON.parse(one.stdout)).toMatchObject({ email: 'cyd@example.com', state: 'done' });
      await inStore(async (app) => {
        const directory = directoryFor(app.operational.db, fixedClock(NOW));
        expect(await directory.find('cyd@example.com')).toMatchObject({
          status: 'deprovisioned',
          source: 'manual',
          team: 'payments',
        });
        // The HR file went in too: Bob left on its say, his departure waits for a listener.
        expect(await directory.find('bob@example.com')).toMatchObject({ status: 'deprovisioned', source: 'hr-file' });
        expect(await directory.find('ada@example.com')).toMatchObject({ status: 'active' });
        expect(await pending(app)).toEqual([{ email: 'bob@example.com', source: 'hr-file' }]);
      });

      const dry = JSON.parse((await cli('offboard', '--reconcile', '--dry-run', '--json')).stdout);
      expect(dry.notOffboarded.map((person: { email: string }) => person.email)).toEqual(['bob@example.com']);
      expect(dry.offboarded).toEqual([]);
      await inStore(async (app) => {
        expect(await pending(app)).toHaveLength(1);
        const jobs = await new OffboardingJobs(app.operational.db, fixedClock(NOW)).list();
        expect(jobs.map((job) => job.email)).toEqual(['cyd@example.com']);
      });

      const reconciled = await cli('offboard', '--reconcile', '--json');
      expect(reconciled.code).toBe(0);
      expect(JSON.parse(reconciled.stdout).offboarded).toEqual([{ email: 'bob@example.com', state: 'done' }]);
      await inStore(async (app) => expect(await pending(app)).toEqual([]));

      const again = JSON.parse((await cli('offboard', '--reconcile', '--json')).stdout);
      expect(again.offboarded).toEqual([]);
      const status = JSON.parse((await cli('offboard', '--status', '--json')).stdout);
      expect(status.jobs.map((job: { email: string; state: string }) => `${job.email}:${job.state}`).sort()).toEqual([
        'bob@example.com:done',
        'cyd@example.com:done',
      ]);
    });
  });
});
