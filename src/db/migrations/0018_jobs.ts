// Creates the durable job queue (src/jobs/): background work any replica may claim with a lease, the ticks of
// scheduled work (one row per schedule and tick, so a tick runs once across the fleet), and the replicas' heartbeats.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('job_id', 'text', (column) => column.primaryKey())
    .addColumn('kind', 'text', (column) => column.notNull())
    .addColumn('payload', 'text', (column) => column.notNull())
    .addColumn('state', 'text', (column) =>
      column.notNull().check(sql`state in ('queued', 'running', 'done', 'failed')`),
    )
    .addColumn('run_at', 'text', (column) => column.notNull())
    .addColumn('attempts', 'bigint', (column) => column.notNull().defaultTo(0))
    .addColumn('max_attempts', 'bigint', (column) => column.notNull())
    .addColumn('dedupe_key', 'text')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'text')
    .addColumn('result', 'text')
    .addColumn('failure', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .addColumn('finished_at', 'text')
    .execute();
  // What a claim scans: open jobs by when they may run.
  await db.schema.createIndex('jobs_claim').on('jobs').columns(['state', 'run_at']).execute();
  // At most one open job per dedupe key (a due key's rotation): the database refuses the second enqueue.
  await db.schema
    .createIndex('jobs_one_open_per_dedupe_key')
    .on('jobs')
    .column('dedupe_key')
    .unique()
    .where(sql.ref('state'), 'in', sql`('queued', 'running')`)
    .execute();

  await db.schema
    .createTable('job_ticks')
    .addColumn('schedule', 'text', (column) => column.notNull())
    .addColumn('tick', 'text', (column) => column.notNull())
    .addColumn('job_id', 'text', (column) => column.notNull())
    .addColumn('replica_id', 'text', (column) => column.notNull())
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('job_ticks_pk', ['schedule', 'tick'])
    .execute();

  await db.schema
    .createTable('replicas')
    .addColumn('replica_id', 'text', (column) => column.primaryKey())
    .addColumn('host', 'text', (column) => column.notNull())
    .addColumn('pid', 'bigint', (column) => column.notNull())
    .addColumn('url', 'text')
    .addColumn('worker', 'bigint', (column) => column.notNull())
    .addColumn('started_at', 'text', (column) => column.notNull())
    .addColumn('beat_at', 'text', (column) => column.notNull())
    .addColumn('stopped_at', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('replicas').execute();
  await db.schema.dropTable('job_ticks').execute();
  await db.schema.dropTable('jobs').execute();
}
