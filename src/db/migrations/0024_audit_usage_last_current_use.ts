// Adds audit_usage.last_current_at: the last use in a usage row made while the credential was its entry's current
// key — a use that is not a stolen-key signal (src/audit/audit-log-enrichment.ts). An entry's last observed use
// (src/audit/audit-usage-store.ts, lastUseByKey) is read from it, so a rotated-out or revoked key that someone still
// holds no longer makes its entry look in use. The covering index of 0023 moves to the new column. Rows ingested
// before this migration cannot tell the two kinds of use apart and keep what they said: last_current_at = last_at.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_usage').addColumn('last_current_at', 'text').execute();
  await sql`update audit_usage set last_current_at = last_at`.execute(db);
  await db.schema.dropIndex('audit_usage_key').execute();
  await db.schema
    .createIndex('audit_usage_key')
    .on('audit_usage')
    .columns(['key_id', 'day', 'last_current_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('audit_usage_key').execute();
  await db.schema.createIndex('audit_usage_key').on('audit_usage').columns(['key_id', 'day', 'last_at']).execute();
  await db.schema.alterTable('audit_usage').dropColumn('last_current_at').execute();
}
