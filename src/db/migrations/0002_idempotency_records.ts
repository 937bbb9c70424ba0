// Creates the records that make a retried command (`keyledger issue`) return its first result instead of
// minting a second key.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('idempotency_records')
    .addColumn('idempotency_key', 'text', (column) => column.primaryKey())
    .addColumn('command', 'text', (column) => column.notNull())
    .addColumn('request_hash', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) =>
      column.notNull().check(sql`status in ('in_progress', 'completed', 'failed')`),
    )
    .addColumn('result', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  // Lets a sweeper find commands left in progress by a crash, oldest first.
  await db.schema
    .createIndex('idempotency_records_status_updated_at')
    .on('idempotency_records')
    .columns(['status', 'updated_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('idempotency_records').execute();
}
