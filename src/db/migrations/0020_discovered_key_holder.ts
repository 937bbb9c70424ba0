// Adds the holder of a discovered key (src/audit/key-discovery.ts): the user a key acts as at the provider when
// its account is not that user — a GitHub personal access token is listed under the organisation, and held by its
// owner, a person or a machine user. What tells a person's own key from a service's (src/audit/key-category.ts).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('discovered_keys').addColumn('holder', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('discovered_keys').dropColumn('holder').execute();
}
