// A transaction that holds the store's write lock from its first statement, on either engine. On SQLite that
// is BEGIN IMMEDIATE: a deferred BEGIN that reads and then writes can fail with SQLITE_BUSY when another process
// wrote in between, instead of waiting its turn.
import { type Kysely, sql } from 'kysely';
import { dialectOf } from './operational-store.js';

/**
 * Runs `work` in one transaction and commits, or rolls back if it throws. `work` must use the `trx` it is given,
 * not the outer `db`: on SQLite the outer handle waits for the one connection this transaction holds.
 * Not re-entrant: do not call it with a `trx`.
 */
export async function writeTransaction<DB, T>(db: Kysely<DB>, work: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  if (db.isTransaction) {
    throw new Error('writeTransaction cannot be nested: pass the transaction you already hold to the inner work');
  }
  if (dialectOf(db) === 'postgres') {
    return db.transaction().execute((trx) => work(trx));
  }
  return db.connection().execute(async (connection) => {
    await sql`begin immediate`.execute(connection);
    try {
      const result = await work(connection);
      await sql`commit`.execute(connection);
      return result;
    } catch (error) {
      await sql`rollback`.execute(connection).catch(() => undefined);
      throw error;
    }
  });
}
