// Creates the table behind API tokens (src/server/auth/api-tokens.ts): what a token may do. The token itself is a
// registry key of the `internal` provider (its keyed hash lives in `internal_keys`, its entry in the registry), so
// this row holds only the grant: the team, the role and the scopes, keyed by the registry key id.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_tokens')
    .addColumn('key_id', 'text', (column) => column.primaryKey())
    .addColumn('team', 'text', (column) => column.notNull())
    .addColumn('role', 'text', (column) => column.notNull())
    /** JSON text array of scopes (`keys:read`, ...). */
    .addColumn('scopes', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('created_by', 'text', (column) => column.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('api_tokens').execute();
}
