// Creates `rate_budgets`: one row per shared request budget (a provider's documented rate limit), the tokens left
// and when they were last counted, so the replicas of a fleet on PostgreSQL draw from one budget instead of one
// each (src/db/shared-rate-budget.ts). Times are milliseconds of the database's own clock, never a replica's.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rate_budgets')
    /** The budget's name: `provider:<name>` for a provider's rate limit. */
    .addColumn('budget', 'text', (column) => column.primaryKey())
    /** Tokens left at `counted_at_ms` (fractional: the budget refills continuously). */
    .addColumn('tokens', 'double precision', (column) => column.notNull())
    /** Milliseconds since the epoch by the database's clock when `tokens` was counted. */
    .addColumn('counted_at_ms', 'double precision', (column) => column.notNull())
    /** Tokens the last draw granted (read back by the drawer in the same statement). */
    .addColumn('last_granted', 'integer', (column) => column.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('rate_budgets').execute();
}
