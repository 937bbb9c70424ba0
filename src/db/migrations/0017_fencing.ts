// Per-key locks with fencing tokens (src/lifecycle/key-locks.ts): one row per key that a rotation, a revoke or a
// split has ever held. `token` only grows — every acquisition or take-over adds one — so a holder that paused
// past its lease (a GC stall, SIGSTOP, a network partition) carries a token the row no longer has and is refused.
// The rotation journal records the token its lease was taken under (`fence_token`), checked on every advance.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('key_locks')
    .addColumn('key_id', 'text', (column) => column.primaryKey())
    /** The lease owner (`<host>:<pid>:<start>:<random>`, rotation-journal.ts newLeaseOwner), null when free. */
    .addColumn('holder', 'text')
    .addColumn('token', 'bigint', (column) => column.notNull().defaultTo(0))
    /** `rotation`, `revocation` or `split`, and the id of the rotation/revocation/split that holds it. */
    .addColumn('operation', 'text')
    .addColumn('operation_id', 'text')
    .addColumn('expires_at', 'text')
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema
    .alterTable('rotation_journal')
    .addColumn('fence_token', 'bigint', (column) => column.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('rotation_journal').dropColumn('fence_token').execute();
  await db.schema.dropTable('key_locks').execute();
}
