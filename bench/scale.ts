// Scale-out (docs/scale-out.md, docs/benchmarks.md): rotations per second with 1, 2 and 3 `keyledger server`
// replicas over one PostgreSQL database, and API requests per second with 1 and 2 replicas. Each rotation run gets a
// fresh world (src/app/test-support/fleet-harness.ts): KEYS due keys at the GitLab sandbox, whose limit (printed
// beside the figure: a rotation makes 3 calls there — create, self-lookup, revoke) bounds what any number of
// replicas can do. The API run serves GET /api/v1/keys with an admin token, autocannon in this process against each
// replica at once.
// Beside each rotation rate, the CPU milliseconds per rotation of the replicas, of the database's PostgreSQL backends
// and of this process (the sandbox and the consumer) over the same window: on a shared machine the rate moves with
// the neighbours' load, the CPU per rotation much less. And per rotation over that window, from PostgreSQL's statistics
// of the fleet's database: transactions (each autocommit statement is one; the bench's own polls, about five a second,
// included) and rows updated per table.
// Run: `npx tsx bench/scale.ts` (env: KEYS=1000, GITLAB_RPS=300, CONCURRENCY=96, DURATION=10 (API seconds),
// CONNECTIONS=20 per replica, REPLICAS=1,2,3, CPU_PROF_DIR=<dir> for the replicas' `--cpu-prof` profiles).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { type Kysely, sql } from 'kysely';
import {
  acquireCliBundle,
  bundleCli,
  createFleetWorld,
  type Replica,
  releaseCliBundle,
} from '../src/app/test-support/fleet-harness.js';
import { CpuSampler, databaseBackendPids } from '../src/app/test-support/process-cpu.js';
import type { OperationalSchema } from '../src/db/operational-schema.js';

const KEYS = Number(process.env.KEYS ?? 1_000);
const GITLAB_RPS = Number(process.env.GITLAB_RPS ?? 300);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 96);
const DURATION = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 20);
const REPLICAS = (process.env.REPLICAS ?? '1,2,3').split(',').map(Number);
/** A folder for the replicas' V8 CPU profiles (`node --cpu-prof`), written when they stop at the end of each row. */
const CPU_PROF_DIR = process.env.CPU_PROF_DIR;
const CALLS_PER_ROTATION = 3;
const log = (line: string) => process.stderr.write(`${line}\n`);
const results: Array<Record<string, unknown>> = [];

// The CLI is bundled once for every row (each world would otherwise bundle it again), and removed at the end.
await acquireCliBundle();
try {
  for (const count of REPLICAS) {
    const world = await createFleetWorld({
      keys: KEYS,
      rateLimit: { requests: GITLAB_RPS, perSeconds: 1 },
      concurrency: CONCURRENCY,
      schedule: '*/5 * * * * *',
      ...(CPU_PROF_DIR ? { replicaNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] } : {}),
      log,
    });
    try {
      const replicas: Replica[] = await Promise.all(Array.from({ length: count }, () => world.startReplica()));
      const doneKeys = async () =>
        Number(
          (
            await world.store.db
              .selectFrom('rotation_journal')
              .select(sql<number>`count(distinct key_id)`.as('n'))
              .where('state', '=', 'done')
              .executeTakeFirstOrThrow()
          ).n,
        );
      // CPU time over the same window, per group: the replicas, the PostgreSQL backends of the fleet's database, and
      // this process (the sandbox and the consumer, and the bench's own polling).
      const cpu = new CpuSampler()
        .follow('replicas', () => replicas.map((replica) => replica.child.pid!))
        .follow('postgres', () => databaseBackendPids(world.store.db))
        .start();
      // Timed from the first rotation planned (the first tick), to the last done.
      let first: number | undefined;
      for (;;) {
        const planned = await world.store.db.selectFrom('rotation_journal').select('rotation_id').limit(1).execute();
        if (planned.length) {
          first = Date.now();
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await cpu.mark();
      const statsBefore = await databaseStats(world.store.db);
      const ownCpu = process.cpuUsage();
      while ((await doneKeys()) < KEYS) {
        // A replica that died would leave the run waiting for ever: stop with what it said last.
        const dead = replicas.find((replica) => replica.child.exitCode !== null || replica.child.signalCode !== null);
        if (dead) {
          throw new Error(
            `a replica exited (${dead.child.exitCode ?? dead.child.signalCode}) mid-run: ${dead.tail().slice(-2_000)}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const seconds = (Date.now() - first) / 1000;
      const own = process.cpuUsage(ownCpu);
      const cpuMs = { ...(await cpu.stop()), benchProcess: (own.user + own.system) / 1000 };
      // Backends flush their statistics at most once a second: wait for the last of the window's.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const statsAfter = await databaseStats(world.store.db);
      const bound = (GITLAB_RPS / CALLS_PER_ROTATION).toFixed(1);
      const row = {
        run: 'rotation',
        replicas: count,
        keys: KEYS,
        seconds: Number(seconds.toFixed(1)),
        rotationsPerSecond: Number((KEYS / seconds).toFixed(1)),
        sandboxLimit: `${GITLAB_RPS} req/s = ${bound} rotations/s`,
        cpuMsPerRotation: Object.fromEntries(
          Object.entries(cpuMs).map(([group, ms]) => [group, Number((ms / KEYS).toFixed(2))]),
        ),
        perRotation: perRotation(statsBefore, statsAfter, KEYS),
      };
      log(JSON.stringify(row));
      results.push(row);
      if (count <= 2) results.push(await apiRun(world.env, replicas));
      if (CPU_PROF_DIR) {
        // A profile is written when the process exits on its own: stop the replicas gracefully.
        for (const replica of replicas) replica.child.kill('SIGTERM');
        await Promise.all(replicas.map((replica) => replica.exited));
      }
    } finally {
      await world.stop();
    }
  }
} finally {
  await releaseCliBundle();
}

interface DatabaseStats {
  transactions: number;
  /** table -> [rows updated, index and sequential scans] */
  tables: Map<string, [number, number]>;
}

/** Transactions committed or rolled back in the fleet's database so far; rows updated and scans per table. */
async function databaseStats(db: Kysely<OperationalSchema>): Promise<DatabaseStats> {
  const database = await sql<{ n: string }>`
    select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()`.execute(db);
  const tables = await sql<{ relname: string; updated: string; scans: string }>`
    select relname, n_tup_upd as updated, coalesce(idx_scan, 0) + coalesce(seq_scan, 0) as scans
    from pg_stat_user_tables`.execute(db);
  return {
    transactions: Number(database.rows[0]?.n ?? 0),
    tables: new Map(tables.rows.map((row) => [row.relname, [Number(row.updated), Number(row.scans)]])),
  };
}

function perRotation(before: DatabaseStats, after: DatabaseStats, keys: number): Record<string, unknown> {
  const per = (n: number) => Number((n / keys).toFixed(1));
  const updatedRows: Record<string, number> = {};
  const scans: Record<string, number> = {};
  for (const [table, [updated, scanned]] of after.tables) {
    const [updatedBefore, scannedBefore] = before.tables.get(table) ?? [0, 0];
    if (updated > updatedBefore) updatedRows[table] = per(updated - updatedBefore);
    if (scanned > scannedBefore) scans[table] = per(scanned - scannedBefore);
  }
  return { transactions: per(after.transactions - before.transactions), updatedRows, scans };
}

/** GET /api/v1/keys with an admin token, CONNECTIONS per replica, all replicas at once; the sum of their rates. */
async function apiRun(env: NodeJS.ProcessEnv, replicas: Replica[]): Promise<Record<string, unknown>> {
  const cli = await bundleCli();
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [cli, 'token', 'create', '--team', 'platform', '--role', 'admin', '--owner', 'fleet@example.com', '--json'],
    { cwd: env.KEYLEDGER_REGISTRY, env },
  );
  const token = (JSON.parse(stdout) as { token: string }).token;
  const runs = await Promise.all(
    replicas.map((replica) =>
      autocannon({
        url: `${replica.url}/api/v1/keys?limit=50`,
        connections: CONNECTIONS,
        duration: DURATION,
        headers: { authorization: `Bearer ${token}` },
      }),
    ),
  );
  const row = {
    run: 'api GET /api/v1/keys',
    replicas: replicas.length,
    requestsPerSecond: runs.reduce((sum, run) => sum + Math.round(run.requests.average), 0),
    p99ms: Math.max(...runs.map((run) => run.latency.p99)),
    non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
  };
  log(JSON.stringify(row));
  return row;
}

process.stdout.write(`${results.map((row) => JSON.stringify(row)).join('\n')}\n`);
