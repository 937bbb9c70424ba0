// The operational store's contract, run on SQLite and on PostgreSQL: migrations from empty, idempotent reopen,
// concurrent opens from several processes, and the engine settings the rest of keyledger relies on.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { operationalMigrations } from './migrations/index.js';
import { openOperationalStore } from './operational-store.js';
import { requireExistingOperationalStore, resolveOperationalStoreOptions } from './operational-store-location.js';
import { runTypeScriptChild } from './test-support/child-process-runner.js';
import { forEachBackend } from './test-support/test-databases.js';
import { writeTransaction } from './write-transaction.js';

const allMigrationNames = Object.keys(operationalMigrations);
const now = '2026-04-01T10:00:00.000Z';

forEachBackend((backend) => {
  it('migrates an empty database to the latest schema', async () => {
    // createDatabase(), not open(): open() copies a migrated template on PostgreSQL (test-support/postgres-template.ts).
    const store = await (await backend.createDatabase()).open();
    expect(store.dialect).toBe(backend.dialect);
    expect(store.appliedMigrations).toEqual(allMigrationNames);
    const tables = (await store.db.introspection.getTables()).map((table) => table.name);
    expect(tables).toEqual(expect.arrayContaining(['events', 'idempotency_records']));
  });

  it('reopens without migrating again and keeps its rows', async () => {
    const database = await backend.createDatabase();
    const first = await database.open();
    await first.db
      .insertInto('idempotency_records')
      .values({
        idempotency_key: 'k-1',
        command: 'issue',
        request_hash: 'h',
        status: 'in_progress',
        result: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await first.close();
    const second = await database.open();
    expect(second.appliedMigrations).toEqual([]);
    const rows = await second.db.selectFrom('idempotency_records').selectAll().execute();
    expect(rows).toHaveLength(1);
  });

  it('runs each migration once when several processes open the same new database at once', async () => {
    const database = await backend.createDatabase();
    const child = new URL('./test-support/open-store-process.ts', import.meta.url);
    const barrier = join(database.options.dataDir, 'barrier');
    const results = await Promise.all(
      [1, 2, 3].map(() => runTypeScriptChild(child, [JSON.stringify(database.options), barrier, '3'])),
    );
    // Code and stderr together, so a failure shows what the child said.
    expect(results.map(({ code, stderr }) => ({ code, stderr }))).toEqual(Array(3).fill({ code: 0, stderr: '' }));
    const applied = results.flatMap((result) => JSON.parse(result.stdout).applied as string[]);
    const expected = [...allMigrationNames, '9999_dawdle'];
    expect(applied.sort()).toEqual(expected);
    const store = await database.open({ migrate: false });
    const executed = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(store.db);
    expect(executed.rows.map((row) => row.name)).toEqual(expected);
  }, 60_000);

  it('runs a migration added to the table on the next open', async () => {
    const database = await backend.createDatabase();
    await (await database.open()).close();
    const extended = {
      ...operationalMigrations,
      '9999_widgets': {
        up: async (db: import('kysely').Kysely<unknown>) => {
          await db.schema
            .createTable('widgets')
            .addColumn('id', 'text', (column) => column.primaryKey())
            .execute();
        },
      },
    };
    const store = await database.open({ migrations: extended });
    expect(store.appliedMigrations).toEqual(['9999_widgets']);
  });

  it('rolls a failing migration back whole and names it', async () => {
    const database = await backend.createDatabase();
    const broken = {
      ...operationalMigrations,
      '9999_broken': {
        up: async (db: import('kysely').Kysely<unknown>) => {
          await db.schema.createTable('half_made').addColumn('id', 'text').execute();
          await sql`this is not sql`.execute(db);
        },
      },
    };
    await expect(database.open({ migrations: broken })).rejects.toMatchObject({
      code: 'E_STORE_MIGRATION',
      details: { migration: '9999_broken' },
    });
    const store = await database.open();
    const tables = (await store.db.introspection.getTables()).map((table) => table.name);
    expect(tables).not.toContain('half_made');
  });

  it('returns bigint columns as numbers and refuses an unknown idempotency status', async () => {
    const store = await backend.open();
    await store.db
      .insertInto('events')
      .values({
        seq: 9_007_199_254,
        id: 'e',
        at: now,
        type: 't',
        actor: 'a',
        key_id: null,
        data: '{}',
        prev_hash: 'p',
        hash: 'h',
      })
      .execute();
    const row = await store.db.selectFrom('events').select('seq').executeTakeFirstOrThrow();
    expect(row.seq).toBe(9_007_199_254);
    const count = await store.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
    await expect(
      store.db
        .insertInto('idempotency_records')
        .values({
          idempotency_key: 'k',
          command: 'issue',
          request_hash: 'h',
          status: 'done' as 'completed',
          result: null,
          created_at: now,
          updated_at: now,
        })
        .execute(),
    ).rejects.toThrow(/check/i);
  });

  it('commits a write transaction, and rolls it back when the work throws', async () => {
    const store = await backend.open();
    const record = (key: string) => ({
      idempotency_key: key,
      command: 'issue',
      request_hash: 'h',
      status: 'completed' as const,
      result: '{}',
      created_at: now,
      updated_at: now,
    });
    await writeTransaction(store.db, (trx) => trx.insertInto('idempotency_records').values(record('kept')).execute());
    await expect(
      writeTransaction(store.db, async (trx) => {
        await trx.insertInto('idempotency_records').values(record('dropped')).execute();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const keys = await store.db.selectFrom('idempotency_records').select('idempotency_key').execute();
    expect(keys.map((row) => row.idempotency_key)).toEqual(['kept']);
  });
});

describe('the SQLite engine settings', () => {
  it('uses WAL, a busy timeout and foreign keys', async () => {
    const [sqlite] = (await import('./test-support/test-databases.js')).testBackends();
    try {
      const store = await sqlite!.open();
      const pragma = async (name: string) =>
        Object.values((await sql.raw(`pragma ${name}`).execute(store.db)).rows[0] as object)[0];
      expect(await pragma('journal_mode')).toBe('wal');
      expect(await pragma('foreign_keys')).toBe(1);
      expect(await pragma('busy_timeout')).toBe(10_000);
      expect(store.location).toMatch(/keyledger\.db$/);
    } finally {
      await sqlite!.cleanup();
    }
  });
});

describe('opening a store that cannot be reached', () => {
  it('names the URL without its password', async () => {
    const error = await openOperationalStore({
      databaseUrl: 'postgres://postgres:hunter2@127.0.0.1:1/nowhere',
      dataDir: '/nonexistent',
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'E_STORE_UNREACHABLE' });
    expect(String((error as Error).message)).toContain('postgres://postgres:****@127.0.0.1:1/nowhere');
    expect(String((error as Error).message)).not.toContain('hunter2');
  });

  it('refuses a URL that is not PostgreSQL', async () => {
    await expect(openOperationalStore({ databaseUrl: 'mysql://x', dataDir: '/tmp' })).rejects.toMatchObject({
      code: 'E_STORE_CONFIG',
    });
  });
});

describe('resolveOperationalStoreOptions', () => {
  it('prefers KEYLEDGER_DATABASE_URL, then KEYLEDGER_DATA_DIR (from the cwd), then .keyledger under the registry root', () => {
    const where = { cwd: '/work', registryRoot: '/repo' };
    expect(resolveOperationalStoreOptions({ env: {}, ...where })).toEqual({ dataDir: '/repo/.keyledger' });
    expect(resolveOperationalStoreOptions({ env: { KEYLEDGER_DATA_DIR: 'state' }, ...where })).toEqual({
      dataDir: '/work/state',
    });
    expect(resolveOperationalStoreOptions({ env: { KEYLEDGER_DATABASE_URL: 'postgres://h/db' }, ...where })).toEqual({
      databaseUrl: 'postgres://h/db',
      dataDir: '/repo/.keyledger',
    });
  });

  it('requireExistingOperationalStore refuses a missing embedded store and creates nothing', () => {
    const dataDir = join(tmpdir(), `keyledger-missing-${process.pid}-${Date.now()}`);
    expect(() => requireExistingOperationalStore({ dataDir })).toThrow(/no operational store at .*keyledger\.db/);
    expect(existsSync(dataDir)).toBe(false);
    expect(requireExistingOperationalStore({ dataDir, databaseUrl: 'postgres://h/db' })).toEqual({
      dataDir,
      databaseUrl: 'postgres://h/db',
    });
  });
});
