// Creates the people directory (src/directory/): the people and SCIM groups the identity sources report, the
// history of status signals deduplicated by their id (delivery is at least once and out of order), the hashed
// bearer secrets the identity providers present (SCIM token, Okta event-hook header), and the Okta event-hook
// deliveries queued before they are processed (answered within Okta's 3 s, processed after; docs/offboarding.md).
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('directory_people')
    .addColumn('id', 'text', (column) => column.primaryKey())
    /** 1, 2, 3... in creation order: the stable order SCIM pagination pages through. */
    .addColumn('seq', 'integer', (column) => column.notNull().unique())
    .addColumn('email', 'text', (column) => column.notNull().unique())
    .addColumn('user_name', 'text')
    /** Lower-cased userName: SCIM's userName is unique without regard to case (RFC 7643 section 4.1.1). */
    .addColumn('user_name_key', 'text', (column) => column.unique())
    .addColumn('external_id', 'text')
    .addColumn('display_name', 'text')
    .addColumn('team', 'text')
    .addColumn('manager_email', 'text')
    .addColumn('status', 'text', (column) =>
      column.notNull().check(sql`status in ('active', 'suspended', 'deprovisioned')`),
    )
    .addColumn('status_changed_at', 'text')
    .addColumn('source', 'text', (column) => column.notNull())
    /** JSON text: the rest of the SCIM resource as the client sent it (never a password). */
    .addColumn('resource', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .addColumn('version', 'integer', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('directory_people_external_id').on('directory_people').columns(['external_id']).execute();
  await db.schema.createIndex('directory_people_order').on('directory_people').columns(['created_at', 'id']).execute();
  await db.schema
    .createTable('directory_groups')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('display_name', 'text', (column) => column.notNull())
    .addColumn('external_id', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .addColumn('version', 'integer', (column) => column.notNull())
    .execute();
  await db.schema
    .createTable('directory_group_members')
    .addColumn('group_id', 'text', (column) => column.notNull().references('directory_groups.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('directory_group_members_pk', ['group_id', 'person_id'])
    .execute();
  await db.schema
    .createTable('directory_signals')
    .addColumn('signal_id', 'text', (column) => column.primaryKey())
    .addColumn('source', 'text', (column) => column.notNull())
    .addColumn('email', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('at', 'text', (column) => column.notNull())
    .addColumn('received_at', 'text', (column) => column.notNull())
    .addColumn('person_id', 'text', (column) => column.notNull())
    /** `applied`, `unchanged` (the status was already this) or `stale` (older than the person's last change). */
    .addColumn('effect', 'text', (column) => column.notNull())
    /** Set on a departure (active -> suspended or deprovisioned): 1 until its listeners have all run. */
    .addColumn('departure_pending', 'integer', (column) => column.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('directory_signals_email').on('directory_signals').columns(['email', 'at']).execute();
  await db.schema
    .createTable('idp_credentials')
    /** The integration: `scim`, `okta-event-hook`. */
    .addColumn('name', 'text', (column) => column.primaryKey())
    /** Hex SHA-256 of the secret; the secret itself is printed once and never stored. */
    .addColumn('secret_sha256', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('created_by', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .createTable('idp_hook_deliveries')
    /** The provider's event id (Okta's event `uuid`): a redelivery finds its row and adds nothing. */
    .addColumn('event_id', 'text', (column) => column.primaryKey())
    .addColumn('source', 'text', (column) => column.notNull())
    .addColumn('event_type', 'text', (column) => column.notNull())
    .addColumn('email', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('at', 'text', (column) => column.notNull())
    .addColumn('external_id', 'text')
    .addColumn('received_at', 'text', (column) => column.notNull())
    /** Null while queued; set once the signal reached the directory. */
    .addColumn('processed_at', 'text')
    .execute();
  await db.schema
    .createIndex('idp_hook_deliveries_pending')
    .on('idp_hook_deliveries')
    .columns(['processed_at', 'received_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('idp_hook_deliveries').execute();
  await db.schema.dropTable('idp_credentials').execute();
  await db.schema.dropTable('directory_signals').execute();
  await db.schema.dropTable('directory_group_members').execute();
  await db.schema.dropTable('directory_groups').execute();
  await db.schema.dropTable('directory_people').execute();
}
