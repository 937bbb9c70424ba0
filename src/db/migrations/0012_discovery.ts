// Creates `key_observations`: what `keyledger discover --source NAME` saw in the places keys hide that are not
// providers (src/discovery-sources/): one row per source, scope (the options it ran with), location and name, with
// the registry entry it was matched to. Never a value: sources that read secrets keep only the fingerprint match.
// And `key_splits`, the journal of `keyledger split` (src/lifecycle/key-split.ts): one row per shared key and
// consuming team, its state and the team's new key, so an interrupted split resumes where it stopped.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('key_observations')
    .addColumn('source', 'text', (column) => column.notNull())
    /** The options the source ran with (its URL, organisation, file), so one scope's run never marks another's gone. */
    .addColumn('scope', 'text', (column) => column.notNull())
    .addColumn('location', 'text', (column) => column.notNull())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('key_id', 'text')
    .addColumn('provider', 'text')
    .addColumn('provider_key_id', 'text')
    .addColumn('principal', 'text')
    .addColumn('created_at', 'text')
    .addColumn('updated_at', 'text')
    .addColumn('last_used_at', 'text')
    /** JSON text: secret-free facts the source reports (masked, ready, type). */
    .addColumn('detail', 'text')
    .addColumn('first_seen_at', 'text', (column) => column.notNull())
    .addColumn('last_seen_at', 'text', (column) => column.notNull())
    /** Set when a complete run of the same source and scope no longer shows it. */
    .addColumn('gone_at', 'text')
    .addPrimaryKeyConstraint('key_observations_pk', ['source', 'scope', 'location', 'name'])
    .execute();
  await db.schema.createIndex('key_observations_key').on('key_observations').columns(['key_id']).execute();
  await db.schema
    .createTable('key_splits')
    .addColumn('shared_key_id', 'text', (column) => column.notNull())
    .addColumn('team', 'text', (column) => column.notNull())
    .addColumn('new_key_id', 'text', (column) => column.notNull())
    /** planned -> issued -> moved -> verified -> done (the shared key revoked). */
    .addColumn('state', 'text', (column) => column.notNull())
    /** What the last step said (a confirmer's detail, an error message); never a secret. */
    .addColumn('detail', 'text')
    .addColumn('actor', 'text', (column) => column.notNull())
    .addColumn('started_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('key_splits_pk', ['shared_key_id', 'team'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('key_splits').execute();
  await db.schema.dropTable('key_observations').execute();
}
