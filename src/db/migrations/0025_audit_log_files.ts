// The audit-log files a scheduled ingest has read (src/audit/audit-log-files.ts): one row per file path, written in
// the transaction that stores the file's usage and anomalies, so a file is counted once however often the job runs,
// and a run that died before its commit left neither the counts nor the row.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_log_files')
    .addColumn('path', 'text', (column) => column.primaryKey())
    .addColumn('bytes', 'bigint', (column) => column.notNull())
    .addColumn('modified_at', 'text', (column) => column.notNull())
    .addColumn('ingested_at', 'text', (column) => column.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_log_files').execute();
}
