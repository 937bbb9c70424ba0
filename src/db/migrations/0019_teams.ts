// Creates the admin-managed team records (src/directory/team-records.ts): a team by the slug registry entries name
// in `owner_team`, its display name, description and shared contact (an on-call alias or a manager's email); its
// members, each a `member` or a `lead`; and the people granted the `security` or `admin` role. The server gives a
// signed-in person the teams and roles these rows name for their email (src/server/team-access.ts).
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('teams')
    /** The name registry entries use in `owner_team`. */
    .addColumn('slug', 'text', (column) => column.primaryKey())
    .addColumn('display_name', 'text', (column) => column.notNull())
    .addColumn('description', 'text')
    /** The team's shared owner or contact: an on-call alias, a manager's email. */
    .addColumn('contact', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('created_by', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .addColumn('updated_by', 'text', (column) => column.notNull())
    /** Bumped by every change to the team or its members: the API's ETag is made from the record. */
    .addColumn('version', 'integer', (column) => column.notNull())
    .execute();
  await db.schema
    .createTable('team_members')
    .addColumn('team', 'text', (column) => column.notNull())
    /** Lower-cased work email, as registry entries name owners. */
    .addColumn('email', 'text', (column) => column.notNull())
    .addColumn('role', 'text', (column) => column.notNull().check(sql`role in ('member', 'lead')`))
    .addColumn('added_at', 'text', (column) => column.notNull())
    .addColumn('added_by', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('team_members_pk', ['team', 'email'])
    .execute();
  // A request resolves a person's teams by email.
  await db.schema.createIndex('team_members_email').on('team_members').column('email').execute();
  await db.schema
    .createTable('role_grants')
    .addColumn('email', 'text', (column) => column.notNull())
    .addColumn('role', 'text', (column) => column.notNull().check(sql`role in ('security', 'admin')`))
    .addColumn('granted_at', 'text', (column) => column.notNull())
    .addColumn('granted_by', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('role_grants_pk', ['email', 'role'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('role_grants').execute();
  await db.schema.dropTable('team_members').execute();
  await db.schema.dropTable('teams').execute();
}
