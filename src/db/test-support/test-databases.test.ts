// The test databases themselves: a PostgreSQL open() is a copy of the run's migrated template, complete and
// independent of every other copy; cleanup() drops every database it created.
import { sql } from 'kysely';
import pg from 'pg';
import { expect, it } from 'vitest';
import { operationalMigrations } from '../migrations/index.js';
import { TEST_POSTGRES_TEMPLATE_VARIABLE } from './postgres-template.js';
import { createTestBackend, testPostgresAdminUrl } from './test-databases.js';

async function databaseNames(): Promise<string[]> {
  const client = new pg.Client({ connectionString: testPostgresAdminUrl() });
  await client.connect();
  try {
    const result = await client.query<{ datname: string }>(
      `select datname from pg_database where datname like 'keyledger_test_${process.pid}_%'`,
    );
    return result.rows.map((row) => row.datname);
  } finally {
    await client.end();
  }
}

it('opens PostgreSQL copies of one migrated template, each on its own, and drops them all', async () => {
  expect(process.env[TEST_POSTGRES_TEMPLATE_VARIABLE]).toMatch(/^keyledger_test_template_/);
  const backend = createTestBackend('postgres');
  try {
    const [first, second] = await Promise.all([backend.open(), backend.open()]);
    for (const store of [first!, second!]) {
      const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(store.db);
      expect(applied.rows.map((row) => row.name)).toEqual(Object.keys(operationalMigrations).sort());
      // Already current: opening ran no migration of its own.
      expect(store.appliedMigrations).toEqual([]);
    }
    const now = '2026-04-01T10:00:00.000Z';
    await first!.db
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
    expect(await second!.db.selectFrom('idempotency_records').selectAll().execute()).toEqual([]);
    expect(await databaseNames()).toHaveLength(2);
  } finally {
    await backend.cleanup();
  }
  expect(await databaseNames()).toEqual([]);
});

it('keeps createDatabase() empty, for tests of the migrations themselves', async () => {
  const backend = createTestBackend('postgres');
  try {
    const database = await backend.createDatabase();
    const store = await database.open();
    expect(store.appliedMigrations).toEqual(Object.keys(operationalMigrations));
  } finally {
    await backend.cleanup();
  }
});
