// The token-digest index (src/audit/token-digests.ts): the SHA-256 of each token keyledger stored for a provider
// whose audit log names tokens only by that hash (GitHub's `hashed_token`), so an audit-log record attributes to
// its registry entry. A digest, never the token; one row per token, kept after rotation so a rotated-out token's
// use is still recognised.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('token_digests')
    /** base64 of the SHA-256 of the token, as the provider's audit log writes it. */
    .addColumn('digest', 'text', (column) => column.primaryKey())
    .addColumn('provider', 'text', (column) => column.notNull())
    .addColumn('key_id', 'text', (column) => column.notNull())
    /** The provider's id of the token, when the store write named one: tells current from rotated-out. */
    .addColumn('provider_key_id', 'text')
    .addColumn('recorded_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('token_digests_key').on('token_digests').columns(['key_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('token_digests').execute();
}
