// Opens the operational store: an embedded SQLite file by default, PostgreSQL when given a URL; one Kysely query
// layer over both, with the schema brought up to date (under a lock that holds across processes) before use.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  Kysely,
  type Migration,
  type MigrationResult,
  Migrator,
  PostgresAdapter,
  PostgresDialect,
  SqliteDialect,
  sql,
} from 'kysely';
import pg from 'pg';
import { operationalMigrations, StaticMigrationProvider } from './migrations/index.js';
import type { OperationalSchema } from './operational-schema.js';
import { OperationalStoreError, redactDatabaseUrl } from './operational-store-error.js';
import { SQLITE_FILE_NAME } from './operational-store-location.js';

export type OperationalDialect = 'sqlite' | 'postgres';

export { SQLITE_FILE_NAME };

export interface OpenOperationalStoreOptions {
  /** A `postgres://` URL; when absent the store is the SQLite file `<dataDir>/keyledger.db`. */
  databaseUrl?: string;
  /** Where the embedded store lives; created when missing. */
  dataDir: string;
  /** Bring the schema up to date on open (default true). */
  migrate?: boolean;
  /** The migrations to run; the operational table by default. Tests pass a longer table. */
  migrations?: Readonly<Record<string, Migration>>;
  /** PostgreSQL connections kept open (default 10, at least 2). */
  poolSize?: number;
  /** How long SQLite waits for another writer before failing (default 10 s). */
  busyTimeoutMs?: number;
}

export interface OperationalStore {
  db: Kysely<OperationalSchema>;
  dialect: OperationalDialect;
  /** The SQLite file path, or the database URL with its password redacted; fit for messages. */
  location: string;
  /** Names of the migrations this open ran (empty when the schema was already current). */
  appliedMigrations: string[];
  close(): Promise<void>;
}

// Distinct from Kysely's own migration lock id, so ours can wrap the whole migrator including its
// create-if-missing steps, which Kysely runs before taking its lock.
const MIGRATION_ADVISORY_LOCK_ID = 7_271_403_318_512_901n;

const PG_INT8_OID = 20;

export async function openOperationalStore(options: OpenOperationalStoreOptions): Promise<OperationalStore> {
  const migrations = options.migrations ?? operationalMigrations;
  const store = options.databaseUrl ? openPostgres(options.databaseUrl, options) : openSqlite(options);
  try {
    if (options.migrate !== false) {
      store.appliedMigrations = await migrateOperationalStore(store, migrations);
    }
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return store;
}

function openSqlite(options: OpenOperationalStoreOptions): OperationalStore {
  const file = join(options.dataDir, SQLITE_FILE_NAME);
  let database: Database.Database;
  try {
    mkdirSync(options.dataDir, { recursive: true });
    database = new Database(file, { timeout: options.busyTimeoutMs ?? 10_000 });
    // WAL lets readers run beside the one writer; NORMAL sync is durable across application crashes in WAL mode.
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
  } catch (error) {
    throw new OperationalStoreError(
      'E_STORE_UNREACHABLE',
      `cannot open the SQLite store at ${file}: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
  const db = new Kysely<OperationalSchema>({ dialect: new SqliteDialect({ database }) });
  return {
    db,
    dialect: 'sqlite',
    location: file,
    appliedMigrations: [],
    close: () => db.destroy(),
  };
}

function openPostgres(databaseUrl: string, options: OpenOperationalStoreOptions): OperationalStore {
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new OperationalStoreError(
      'E_STORE_CONFIG',
      `KEYLEDGER_DATABASE_URL must be a postgres:// URL, got ${redactDatabaseUrl(databaseUrl)}`,
    );
  }
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    // At least two: the migration lock holds one connection while the migrator uses another.
    max: Math.max(2, options.poolSize ?? 10),
    // bigint columns (seq, counts) come back as numbers on both backends; 2^53 rows is far off.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === PG_INT8_OID && format !== 'binary'
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle pooled connection that the server closes (a restart, a failover, an administrator) is dropped from the
  // pool and replaced on next use; without a listener its error event would crash the process.
  pool.on('error', () => undefined);
  const db = new Kysely<OperationalSchema>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    location: redactDatabaseUrl(databaseUrl),
    appliedMigrations: [],
    close: () => db.destroy(),
  };
}

/**
 * Runs pending migrations and returns their names. Safe to call from several processes at once: PostgreSQL
 * serialises them with a session advisory lock, SQLite with a write transaction (BEGIN IMMEDIATE) around the
 * whole run, so a second opener waits and then finds nothing left to do.
 */
export async function migrateOperationalStore(
  store: Pick<OperationalStore, 'db' | 'dialect' | 'location'>,
  migrations: Readonly<Record<string, Migration>> = operationalMigrations,
): Promise<string[]> {
  const db = store.db as Kysely<unknown>;
  try {
    // The common case, every CLI run after the first, reads one table and takes no lock.
    if (await isSchemaCurrent(db, migrations)) return [];
  } catch (error) {
    throw unreachable(store, error);
  }
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider(migrations) });
  const run = async (): Promise<MigrationResult[]> => {
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((result) => result.status === 'Error')?.migrationName;
      throw new OperationalStoreError(
        'E_STORE_MIGRATION',
        `cannot bring the operational store at ${store.location} up to date${failed ? ` (migration ${failed} failed)` : ''}: ${messageOf(error)}`,
        { cause: error, ...(failed ? { details: { migration: failed } } : {}) },
      );
    }
    return results ?? [];
  };
  let results: MigrationResult[];
  try {
    results =
      store.dialect === 'postgres' ? await withPostgresMigrationLock(db, run) : await withSqliteWriteLock(db, run);
  } catch (error) {
    if (error instanceof OperationalStoreError) throw error;
    throw unreachable(store, error);
  }
  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

async function isSchemaCurrent(db: Kysely<unknown>, migrations: Readonly<Record<string, Migration>>): Promise<boolean> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((table) => table.name === 'kysely_migration')) return false;
  const executed = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
  const done = new Set(executed.rows.map((row) => row.name));
  const wanted = Object.keys(migrations);
  return done.size === wanted.length && wanted.every((name) => done.has(name));
}

async function withPostgresMigrationLock<T>(db: Kysely<unknown>, work: () => Promise<T>): Promise<T> {
  // The lock is held by one pooled connection while the migrator runs on the others; a session lock is released
  // by the server if this process dies.
  return db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${sql.lit(MIGRATION_ADVISORY_LOCK_ID)})`.execute(connection);
    try {
      return await work();
    } finally {
      await sql`select pg_advisory_unlock(${sql.lit(MIGRATION_ADVISORY_LOCK_ID)})`.execute(connection);
    }
  });
}

async function withSqliteWriteLock<T>(db: Kysely<unknown>, work: () => Promise<T>): Promise<T> {
  // Kysely's SQLite driver has a single connection, so the migrator's queries run inside this transaction.
  // SQLite's DDL is transactional: a failed migration rolls back whole.
  await sql`begin immediate`.execute(db);
  try {
    const result = await work();
    await sql`commit`.execute(db);
    return result;
  } catch (error) {
    await sql`rollback`.execute(db).catch(() => undefined);
    throw error;
  }
}

/** Which engine a Kysely instance talks to; services use it to pick their locking. */
export function dialectOf<DB>(db: Kysely<DB>): OperationalDialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

function unreachable(store: Pick<OperationalStore, 'location'>, error: unknown): OperationalStoreError {
  return new OperationalStoreError(
    'E_STORE_UNREACHABLE',
    `cannot reach the operational store at ${store.location}: ${messageOf(error)}`,
    {
      cause: error,
    },
  );
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return messageOf(error.errors[0]);
  return error instanceof Error ? error.message : String(error);
}
