// The server feeds the HR file (docs/offboarding.md, "The HR file in the server"), on both engines: the real server
// with its modules (src/app/server-modules.ts) over a registry whose `policy.people_directory` is a CSV and whose
// identity-sources.json names an `hr-file` source. At start the directory holds the file's people; the file edited
// to mark a person left, the directory records the departure and the server's offboarding module runs their job,
// signal source `hr-file`. Without the entry, the server leaves the file alone (the CLI feeds it, as before).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServerModules } from '../../app/server-modules.js';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { directoryFor } from '../../directory/directory-store.js';
import { OffboardingJobs } from '../../offboarding/offboarding-jobs.js';
import type { OffboardingQueue } from '../../offboarding/offboarding-queue.js';
import { GIT_TEST_ENV, makeRegistry } from '../../registry/test-support/registry-fixtures.js';
import { systemClock } from '../../runtime/clock.js';
import { createKeyledgerServer, type KeyledgerServer } from '../../server/keyledger-server.js';
import { serverConfigSchema } from '../../server/server-config.js';
import { createLogger } from '../../telemetry/logger.js';
import {
  IDENTITY_SOURCES_FILE_NAME,
  readHrFileFeedOptions,
  readIdentitySourcesFile,
} from '../identity-sources-file.js';
import type { HrFileFeed } from './hr-file-feed.js';

const PEOPLE = [
  'email,name,team,status,left_at',
  'ada@example.com,Ada L,payments,active,',
  'bo@example.com,Bo R,payments,active,',
  'cy@example.com,Cy T,data,active,',
].join('\n');

forEachBackend((backend) => {
  let running: KeyledgerServer | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  async function start(sources: Record<string, unknown> | undefined) {
    const database = await backend.createDatabase();
    const registry = await makeRegistry(
      {
        '.gitignore': '.keyledger/\n',
        'keys/.gitkeep': '',
        'keyledger.config.yaml': 'policy:\n  people_directory: people.csv\n',
        'people.csv': `${PEOPLE}\n`,
      },
      { git: true },
    );
    const env = {
      ...process.env,
      ...GIT_TEST_ENV,
      KEYLEDGER_DATA_DIR: database.options.dataDir,
      KEYLEDGER_DATABASE_URL: database.options.databaseUrl ?? '',
    };
    if (sources) await writeFile(join(database.options.dataDir!, IDENTITY_SOURCES_FILE_NAME), JSON.stringify(sources));
    let queue: OffboardingQueue | undefined;
    let feed: HrFileFeed | undefined;
    running = await createKeyledgerServer({
      config: serverConfigSchema.parse({ port: 0, shutdownTimeoutMs: 5_000 }),
      app: { registryDir: registry, env, cwd: registry },
      clock: systemClock,
      logger: createLogger({ level: 'silent', write: () => {} }),
      modules: createServerModules({
        env,
        cwd: registry,
        offboarding: { onQueue: (heard) => (queue = heard) },
        onHrFileFeed: (built) => (feed = built),
      }),
    });
    return { registry, queue: queue!, feed, directory: directoryFor(running.app.operational.db, systemClock) };
  }

  describe('the HR file in the server', () => {
    it('imports the file at start; a person marked left there is offboarded by the server', async () => {
      const { registry, queue, feed, directory } = await start({ 'hr-file': { debounceMs: 50, pollSeconds: 0.2 } });
      expect(feed).toBeDefined();
      await feed!.idle();
      expect((await directory.list()).map((person) => [person.email, person.status, person.source])).toEqual(
        expect.arrayContaining([
          ['ada@example.com', 'active', 'hr-file'],
          ['bo@example.com', 'active', 'hr-file'],
          ['cy@example.com', 'active', 'hr-file'],
        ]),
      );
      const jobs = new OffboardingJobs(running!.app.operational.db, systemClock);
      expect(await jobs.list()).toHaveLength(0);

      const file = join(registry, 'people.csv');
      await writeFile(
        file,
        (await readFile(file, 'utf8')).replace(
          'bo@example.com,Bo R,payments,active,',
          'bo@example.com,Bo R,payments,left,2026-12-06',
        ),
      );
      await vi.waitFor(async () => expect((await directory.find('bo@example.com'))?.status).toBe('deprovisioned'), {
        timeout: 10_000,
      });
      await feed!.idle();
      await queue.idle();
      const job = await jobs.get('bo@example.com');
      expect(job?.signal.source).toBe('hr-file');
      expect(job?.state).toBe('done');
      expect((await jobs.list()).map((one) => one.email)).toEqual(['bo@example.com']);
    });

    it('leaves the file alone when identity-sources.json names no hr-file', async () => {
      const { feed, directory } = await start(undefined);
      expect(feed).toBeUndefined();
      expect(await directory.list()).toHaveLength(0);
    });
  });
});

describe('the hr-file entry of identity-sources.json', () => {
  it('is the server’s alone: the outbound sources skip it, its options are checked by name', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'keyledger-hr-sources-'));
    const location = { env: {}, cwd: dataDir, dataDir };
    try {
      await writeFile(join(dataDir, IDENTITY_SOURCES_FILE_NAME), JSON.stringify({ 'hr-file': {} }));
      expect(await readIdentitySourcesFile(location)).toEqual([]);
      expect(await readHrFileFeedOptions(location)).toEqual({ debounceMs: 500, pollSeconds: 30 });
      await writeFile(
        join(dataDir, IDENTITY_SOURCES_FILE_NAME),
        JSON.stringify({ 'hr-file': { pollSeconds: 'often' } }),
      );
      await expect(readHrFileFeedOptions(location)).rejects.toThrow(/hr-file: pollSeconds/);
      // A file that is not JSON is named, never quoted (it holds tokens).
      await writeFile(join(dataDir, IDENTITY_SOURCES_FILE_NAME), '{"okta": {"token": "00canaryToken"}, oops');
      await expect(readIdentitySourcesFile(location)).rejects.toThrow(/not valid JSON$/);
      await expect(readIdentitySourcesFile(location)).rejects.not.toThrow(/canary/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
