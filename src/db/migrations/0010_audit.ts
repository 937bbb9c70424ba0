// Creates the tables behind audit-log enrichment (src/audit/): usage aggregated per key, day, source, principal and
// outcome (a million records become a few thousand rows, and `keyledger usage KEY` reads them by key), and the
// anomalies found in it (unregistered keys, unexpected sources, revoked or rotated-out keys used, keys shared
// across teams), one row per kind, credential and source, counted; and each quarterly audit's summary and findings,
// so the next audit reports what changed.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_usage')
    .addColumn('provider', 'text', (column) => column.notNull())
    /** The provider's key id, or `sha256:` + a hashed token; never a secret. */
    .addColumn('credential', 'text', (column) => column.notNull())
    .addColumn('day', 'text', (column) => column.notNull())
    .addColumn('source', 'text', (column) => column.notNull())
    .addColumn('principal', 'text', (column) => column.notNull())
    .addColumn('outcome', 'text', (column) => column.notNull().check(sql`outcome in ('success', 'failure')`))
    .addColumn('key_id', 'text')
    .addColumn('source_team', 'text')
    .addColumn('count', 'bigint', (column) => column.notNull())
    .addColumn('first_at', 'text', (column) => column.notNull())
    .addColumn('last_at', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('audit_usage_pk', ['provider', 'credential', 'day', 'source', 'principal', 'outcome'])
    .execute();
  await db.schema.createIndex('audit_usage_key').on('audit_usage').columns(['key_id', 'day']).execute();
  await db.schema
    .createTable('audit_anomalies')
    .addColumn('kind', 'text', (column) => column.notNull())
    .addColumn('provider', 'text', (column) => column.notNull())
    .addColumn('credential', 'text', (column) => column.notNull())
    .addColumn('source', 'text', (column) => column.notNull())
    .addColumn('key_id', 'text')
    .addColumn('owner_team', 'text')
    .addColumn('detail', 'text', (column) => column.notNull())
    .addColumn('count', 'bigint', (column) => column.notNull())
    .addColumn('first_at', 'text', (column) => column.notNull())
    .addColumn('last_at', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('audit_anomalies_pk', ['kind', 'provider', 'credential', 'source'])
    .execute();
  await db.schema.createIndex('audit_anomalies_key').on('audit_anomalies').columns(['key_id']).execute();
  await db.schema
    .createTable('discovered_keys')
    .addColumn('provider', 'text', (column) => column.notNull())
    .addColumn('provider_key_id', 'text', (column) => column.notNull())
    .addColumn('account', 'text')
    .addColumn('name', 'text')
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text')
    .addColumn('created_by', 'text')
    .addColumn('last_used_at', 'text')
    /** JSON text: the permissions or scopes the provider lists. */
    .addColumn('permissions', 'text')
    .addColumn('first_seen_at', 'text', (column) => column.notNull())
    .addColumn('last_seen_at', 'text', (column) => column.notNull())
    /** Set when a complete listing of the provider no longer shows the key. */
    .addColumn('gone_at', 'text')
    .addPrimaryKeyConstraint('discovered_keys_pk', ['provider', 'provider_key_id'])
    .execute();
  await db.schema
    .createTable('audit_reports')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('as_of', 'text', (column) => column.notNull())
    .addColumn('generated_at', 'text', (column) => column.notNull())
    /** JSON: the headline counts and the counts per finding class and team. */
    .addColumn('summary', 'text', (column) => column.notNull())
    /** One `class<TAB>key_id` per line: enough to tell new findings from resolved ones next time. */
    .addColumn('findings', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('audit_reports_as_of').on('audit_reports').columns(['as_of']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_reports').execute();
  await db.schema.dropTable('discovered_keys').execute();
  await db.schema.dropTable('audit_anomalies').execute();
  await db.schema.dropTable('audit_usage').execute();
}
