// Creates the dashboard's tables (src/web/): sessions (a hash of the cookie's token, never the token), the OIDC
// logins under way (state, nonce and PKCE verifier between the redirect and the callback, minutes at most),
// self-service key requests with their approval, and the triage of scan findings (who is on it, false positive).
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('web_sessions')
    /** SHA-256 (hex) of the cookie's random token: a copy of the table cannot be replayed as a cookie. */
    .addColumn('token_hash', 'text', (column) => column.primaryKey())
    /** JSON: the Principal (src/server/access.ts) the login established. */
    .addColumn('principal', 'text', (column) => column.notNull())
    .addColumn('csrf_token', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('web_sessions_expires').on('web_sessions').column('expires_at').execute();
  await db.schema
    .createTable('web_login_states')
    .addColumn('state', 'text', (column) => column.primaryKey())
    .addColumn('nonce', 'text', (column) => column.notNull())
    .addColumn('code_verifier', 'text', (column) => column.notNull())
    .addColumn('return_to', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .createTable('key_requests')
    .addColumn('request_id', 'text', (column) => column.primaryKey())
    .addColumn('requester', 'text', (column) => column.notNull())
    .addColumn('team', 'text', (column) => column.notNull())
    .addColumn('provider', 'text', (column) => column.notNull())
    .addColumn('purpose', 'text', (column) => column.notNull())
    /** JSON text array. */
    .addColumn('permissions', 'text', (column) => column.notNull())
    .addColumn('justification', 'text')
    .addColumn('account', 'text')
    .addColumn('expires_in_days', 'integer')
    .addColumn('status', 'text', (column) =>
      column.notNull().check(sql`status in ('pending', 'approved', 'rejected', 'issued', 'failed')`),
    )
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'text')
    .addColumn('decision_note', 'text')
    .addColumn('key_id', 'text')
    .addColumn('failure', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('key_requests_status').on('key_requests').columns(['status', 'created_at']).execute();
  await db.schema
    .createTable('finding_triage')
    /** The id of the `finding` event (src/events/) this triage is about. */
    .addColumn('finding_id', 'text', (column) => column.primaryKey())
    .addColumn('key_id', 'text')
    .addColumn('status', 'text', (column) =>
      column.notNull().check(sql`status in ('open', 'assigned', 'false-positive', 'rotating')`),
    )
    .addColumn('assignee', 'text')
    .addColumn('note', 'text')
    .addColumn('updated_by', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('finding_triage').execute();
  await db.schema.dropTable('key_requests').execute();
  await db.schema.dropTable('web_login_states').execute();
  await db.schema.dropTable('web_sessions').execute();
}
