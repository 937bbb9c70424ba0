// Fresh operational stores for tests, one SQLite file and one PostgreSQL database per call, so a suite runs
// unchanged on both engines:
//
//   forEachBackend((backend) => {
//     it('keeps a row', async () => {
//       const store = await backend.open(); // new, migrated database; closed and dropped after the suite
//     });
//   });
//
// `backend.sharedStore()` gives every test of the suite one store instead, for suites of many small tests that
// empty their tables in `beforeEach`. On PostgreSQL, `open()` and `sharedStore()` copy the run's migrated template
// (postgres-template.ts) instead of migrating each database; `createDatabase()` stays empty, for migration tests.
//
// PostgreSQL is the server at KEYLEDGER_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres);
// when it cannot be reached the test fails, it is never skipped.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe } from 'vitest';
import {
  type OpenOperationalStoreOptions,
  type OperationalDialect,
  type OperationalStore,
  openOperationalStore,
} from '../operational-store.js';
import { migratedTemplate } from './postgres-template.js';
import { TEST_POSTGRES_URL_VARIABLE, testPostgresAdminUrl } from './test-postgres-server.js';

export { TEST_POSTGRES_URL_VARIABLE, testPostgresAdminUrl };

/** One empty database: where it is, and a way to open it (as many times as a test likes). */
export interface TestDatabase {
  dialect: OperationalDialect;
  /** What `openOperationalStore` takes to reach this database. */
  options: OpenOperationalStoreOptions;
  /** Opens (and by default migrates) this database; the store is closed by `cleanup()` if the test did not. */
  open(extra?: Partial<OpenOperationalStoreOptions>): Promise<OperationalStore>;
}

export interface TestBackend {
  dialect: OperationalDialect;
  /**
   * A new empty database, not yet migrated; with `migrated`, a copy of the migrated template on PostgreSQL (for tests
   * that need the database's options as well as a migrated store).
   */
  createDatabase(options?: { migrated?: boolean }): Promise<TestDatabase>;
  /** A new database, migrated and opened: the usual way to start a test (on PostgreSQL, a copy of the template). */
  open(extra?: Partial<OpenOperationalStoreOptions>): Promise<OperationalStore>;
  /**
   * One migrated store shared by every call on this backend: cheaper than `open()` when a suite has many small
   * tests, which then empty the tables they use themselves (e.g. in `beforeEach`).
   */
  sharedStore(): Promise<OperationalStore>;
  /** Closes every store opened here and drops every database created here. */
  cleanup(): Promise<void>;
}

/** Both backends, unregistered with any test hook: call `cleanup()` yourself. */
export function testBackends(): TestBackend[] {
  return [createTestBackend('sqlite'), createTestBackend('postgres')];
}

/**
 * Declares `suite` once per backend (`describe('sqlite')`, `describe('postgres')`), cleaning up after each.
 */
export function forEachBackend(suite: (backend: TestBackend) => void): void {
  describe.each(['sqlite', 'postgres'] as const)('%s', (dialect) => {
    const backend = createTestBackend(dialect);
    afterAll(() => backend.cleanup());
    suite(backend);
  });
}

export function createTestBackend(dialect: OperationalDialect): TestBackend {
  const stores: OperationalStore[] = [];
  const removals: Array<() => Promise<void>> = [];

  const createDatabase = async (migrated = false): Promise<TestDatabase> => {
    const options =
      dialect === 'sqlite' ? createSqliteDirectory(removals) : await createPostgresDatabase(removals, migrated);
    return {
      dialect,
      options,
      open: async (extra = {}) => {
        const store = await openOperationalStore({ ...options, ...extra });
        stores.push(trackClose(store));
        return store;
      },
    };
  };

  let shared: Promise<OperationalStore> | undefined;
  return {
    dialect,
    createDatabase: (options = {}) => createDatabase(options.migrated === true),
    // A copy of the template only for the operational migrations: other migrations, or none, need an empty database.
    open: async (extra = {}) =>
      (await createDatabase(extra.migrations === undefined && extra.migrate !== false)).open(extra),
    sharedStore: () => {
      shared ??= createDatabase(true).then((database) => database.open());
      return shared;
    },
    cleanup: async () => {
      shared = undefined;
      await Promise.all(stores.splice(0).map((store) => store.close()));
      // At once, not one after another: each DROP DATABASE waits for a checkpoint (seconds on a busy server), and
      // drops running together share one.
      const results = await Promise.allSettled(removals.splice(0).map((remove) => remove()));
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}

// A store closed by the test and again by cleanup must not fail the second time.
function trackClose(store: OperationalStore): OperationalStore {
  const close = store.close.bind(store);
  let closing: Promise<void> | undefined;
  store.close = () => {
    closing ??= close();
    return closing;
  };
  return store;
}

function createSqliteDirectory(removals: Array<() => Promise<void>>): OpenOperationalStoreOptions {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyledger-store-'));
  removals.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  return { dataDir };
}

async function createPostgresDatabase(
  removals: Array<() => Promise<void>>,
  migrated: boolean,
): Promise<OpenOperationalStoreOptions> {
  const adminUrl = testPostgresAdminUrl();
  // Unique per call and per process; a prefix others can recognise as a test leftover.
  const name = `keyledger_test_${process.pid}_${randomBytes(5).toString('hex')}`;
  const template = migrated ? await migratedTemplate(adminUrl, withAdminClient) : undefined;
  await withAdminClient(adminUrl, (client) =>
    client.query(template ? `create database "${name}" template "${template}"` : `create database "${name}"`),
  );
  removals.push(() =>
    withAdminClient(adminUrl, async (client) => {
      await client.query(`drop database if exists "${name}" with (force)`);
    }),
  );
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'keyledger-store-'));
  removals.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  return { databaseUrl: url.toString(), dataDir };
}

async function withAdminClient<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL for tests is unreachable at ${adminUrl} (set ${TEST_POSTGRES_URL_VARIABLE}): ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
