// Creates the rotation journal (src/lifecycle/rotation/): one row per rotation of a key, written before and after
// every external side effect, so a crashed rotation can be finished or rolled back by `keyledger rotate --resume`.
// Also the ledger of rotation tickets (src/tickets/): one open ticket per due key, found again on re-runs.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rotation_journal')
    .addColumn('rotation_id', 'text', (column) => column.primaryKey())
    .addColumn('key_id', 'text', (column) => column.notNull())
    .addColumn('provider', 'text', (column) => column.notNull())
    .addColumn('account', 'text')
    .addColumn('trigger', 'text', (column) => column.notNull())
    .addColumn('state', 'text', (column) => column.notNull())
    .addColumn('store', 'text', (column) => column.notNull())
    .addColumn('path', 'text', (column) => column.notNull())
    .addColumn('old_provider_key_id', 'text')
    .addColumn('new_key_name', 'text', (column) => column.notNull())
    .addColumn('new_provider_key_id', 'text')
    .addColumn('new_version_id', 'text')
    .addColumn('fingerprint', 'text')
    .addColumn('failure', 'text')
    .addColumn('rollback_reason', 'text')
    .addColumn('attempts', 'bigint', (column) => column.notNull().defaultTo(0))
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'text')
    .addColumn('not_before', 'text')
    .addColumn('state_entered_at', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  // At most one unfinished rotation per key: the database refuses a second, whichever process tries.
  await db.schema
    .createIndex('rotation_journal_one_open_per_key')
    .on('rotation_journal')
    .column('key_id')
    .unique()
    .where(sql.ref('state'), 'not in', sql`('done', 'rolled-back', 'failed')`)
    .execute();
  await db.schema
    .createIndex('rotation_journal_state')
    .on('rotation_journal')
    .columns(['state', 'updated_at'])
    .execute();

  await db.schema
    .createTable('rotation_tickets')
    .addColumn('dedupe_key', 'text', (column) => column.primaryKey())
    .addColumn('key_id', 'text', (column) => column.notNull())
    .addColumn('sink', 'text', (column) => column.notNull())
    .addColumn('state', 'text', (column) => column.notNull().check(sql`state in ('opening', 'open', 'closed')`))
    .addColumn('external_id', 'text')
    .addColumn('url', 'text')
    .addColumn('due_at', 'text', (column) => column.notNull())
    .addColumn('escalated_at', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('rotation_tickets_key_state')
    .on('rotation_tickets')
    .columns(['key_id', 'state'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('rotation_tickets').execute();
  await db.schema.dropTable('rotation_journal').execute();
}
