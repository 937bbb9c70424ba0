// Creates the revocation journal (src/lifecycle/revocation-journal.ts): one row per `keyledger revoke`, written
// before its first external effect and after each step, so a revoke that stopped half-way (the provider revoked,
// the registry not yet marked) is finished by running it again or by `keyledger revoke --resume`.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('revocation_journal')
    .addColumn('revocation_id', 'text', (column) => column.primaryKey())
    .addColumn('key_id', 'text', (column) => column.notNull())
    .addColumn('provider', 'text', (column) => column.notNull())
    .addColumn('state', 'text', (column) => column.notNull().check(sql`state in ('pending', 'done')`))
    .addColumn('actor', 'text', (column) => column.notNull())
    .addColumn('reason', 'text')
    // JSON text: the steps planned at the start, each with whether it is done. Never a secret.
    .addColumn('plan', 'text', (column) => column.notNull())
    .addColumn('failure', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  // At most one unfinished revoke per key, whichever process starts it.
  await db.schema
    .createIndex('revocation_journal_one_pending_per_key')
    .on('revocation_journal')
    .column('key_id')
    .unique()
    .where(sql.ref('state'), '=', 'pending')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('revocation_journal').execute();
}
