// Creates the hash-chained event log (src/events/). Append-only: no column is ever updated.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('events')
    // Assigned by the appender under a lock, not by the database: the hash covers seq, so it must be known
    // before the row is written.
    .addColumn('seq', 'bigint', (column) => column.primaryKey())
    .addColumn('id', 'text', (column) => column.notNull().unique())
    .addColumn('at', 'text', (column) => column.notNull())
    .addColumn('type', 'text', (column) => column.notNull())
    .addColumn('actor', 'text', (column) => column.notNull())
    .addColumn('key_id', 'text')
    .addColumn('data', 'text', (column) => column.notNull())
    .addColumn('prev_hash', 'text', (column) => column.notNull())
    .addColumn('hash', 'text', (column) => column.notNull())
    .execute();
  // The list filters of `keyledger events`: each narrows by one column and pages by seq.
  await db.schema.createIndex('events_type_seq').on('events').columns(['type', 'seq']).execute();
  await db.schema.createIndex('events_key_id_seq').on('events').columns(['key_id', 'seq']).execute();
  await db.schema.createIndex('events_actor_seq').on('events').columns(['actor', 'seq']).execute();
  await db.schema.createIndex('events_at').on('events').column('at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('events').execute();
}
