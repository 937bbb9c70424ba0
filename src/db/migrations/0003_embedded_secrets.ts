// Creates the embedded secret store's tables (src/secrets/embedded/): one row per secret holding its stage
// pointers, and one row per version holding the sealed value. No plaintext column exists.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('embedded_secrets')
    .addColumn('path', 'text', (column) => column.primaryKey())
    // The last version number handed out; versions are numbered per path from 1 and never reused.
    .addColumn('next_version', 'bigint', (column) => column.notNull())
    .addColumn('current_version', 'bigint')
    .addColumn('pending_version', 'bigint')
    .addColumn('previous_version', 'bigint')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .createTable('embedded_secret_versions')
    .addColumn('path', 'text', (column) => column.notNull().references('embedded_secrets.path').onDelete('cascade'))
    .addColumn('version', 'bigint', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('metadata', 'text', (column) => column.notNull())
    .addColumn('idempotency_token', 'text')
    // base64 of iv || AES-256-GCM ciphertext || tag, under the version's data key.
    .addColumn('ciphertext', 'text', (column) => column.notNull())
    // base64 of iv || data key sealed under the master key || tag.
    .addColumn('wrapped_key', 'text', (column) => column.notNull())
    .addColumn('master_key_id', 'text', (column) => column.notNull())
    .addColumn('envelope_format', 'integer', (column) => column.notNull().check(sql`envelope_format >= 1`))
    .addPrimaryKeyConstraint('embedded_secret_versions_pk', ['path', 'version'])
    .addUniqueConstraint('embedded_secret_versions_token', ['path', 'idempotency_token'])
    .execute();
  // Master-key rotation walks the rows a retiring key still wraps, and status counts them.
  await db.schema
    .createIndex('embedded_secret_versions_master_key')
    .on('embedded_secret_versions')
    .columns(['master_key_id', 'path', 'version'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('embedded_secret_versions').execute();
  await db.schema.dropTable('embedded_secrets').execute();
}
