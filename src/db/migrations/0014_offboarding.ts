// Creates the offboarding tables (src/offboarding/offboarding-jobs.ts): one job per leaver and one row per step of
// it, written as each step completes, so a job stopped half-way (a crash between two keys) carries on from the
// first step not done when it is run again, by the next signal or by `keyledger offboard --resume`.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('offboarding_jobs')
    .addColumn('job_id', 'text', (column) => column.primaryKey())
    // Lower-cased work email; one job per leaver, whichever signal or process starts it.
    .addColumn('email', 'text', (column) => column.notNull().unique())
    .addColumn('state', 'text', (column) => column.notNull().check(sql`state in ('running', 'done', 'failed')`))
    // JSON text: the DirectoryPerson as the departure named them, and the signal that started the job.
    .addColumn('person', 'text', (column) => column.notNull())
    .addColumn('signal', 'text', (column) => column.notNull())
    .addColumn('actor', 'text', (column) => column.notNull())
    .addColumn('attempts', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('failure', 'text')
    // JSON text: the report of the last run (never a secret).
    .addColumn('report', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .addColumn('finished_at', 'text')
    .execute();
  await db.schema
    .createTable('offboarding_steps')
    .addColumn('job_id', 'text', (column) => column.notNull())
    // `find`, `reassign:<key>`, `rotate:<key>`, `disable:<key>`, `sessions:<source>`, `report`.
    .addColumn('step', 'text', (column) => column.notNull())
    .addColumn('position', 'integer', (column) => column.notNull())
    .addColumn('state', 'text', (column) =>
      column.notNull().check(sql`state in ('pending', 'done', 'skipped', 'left', 'failed')`),
    )
    // JSON text: what the step found or did (a commit, a rotation id, a ticket), never a secret.
    .addColumn('detail', 'text')
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('offboarding_steps_pk', ['job_id', 'step'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('offboarding_steps').execute();
  await db.schema.dropTable('offboarding_jobs').execute();
}
