// CPU time of other processes, for the fleet's figures (bench/scale.ts, src/app/fleet.e2e.test.ts): what each replica
// child and each PostgreSQL backend serving the fleet's database spent, read from /proc (Linux; elsewhere nothing is
// known and the figures say so). Wall-clock rates on a shared 2-core machine move with the neighbours' load; CPU
// time per rotation does not, so it is the figure a change to the hot path is judged by.
import { readFile } from 'node:fs/promises';
import { type Kysely, sql } from 'kysely';
import type { OperationalSchema } from '../../db/operational-schema.js';

/** Clock ticks per second of /proc's utime and stime (`getconf CLK_TCK`: 100 on Linux's usual builds). */
const TICKS_PER_SECOND = 100;

/** User plus system CPU milliseconds the process has used so far, or undefined when /proc cannot tell. */
export async function processCpuMs(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // The command name (field 2) is parenthesised and may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}

/** The process ids of the PostgreSQL backends connected to the database `db` is connected to (itself included). */
export async function databaseBackendPids(db: Kysely<OperationalSchema>): Promise<number[]> {
  const result = await sql<{
    pid: number;
  }>`select pid from pg_stat_activity where datname = current_database()`.execute(db);
  return result.rows.map((row) => Number(row.pid));
}

/** Sums the CPU milliseconds of `pids` that /proc still knows. */
export async function totalCpuMs(pids: readonly number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) total += (await processCpuMs(pid)) ?? 0;
  return total;
}

/**
 * Samples processes' CPU time every `everyMs` and keeps each one's last reading, so a process that exits (a killed
 * replica, a backend whose pool connection closed) still counts what it used up to its last sample.
 */
export class CpuSampler {
  readonly #last = new Map<number, { group: string; ms: number }>();
  /** Readings at `mark()`: what a process had used before the measured window. */
  readonly #baseline = new Map<number, number>();
  readonly #sources: Array<{ group: string; pids: () => Promise<readonly number[]> | readonly number[] }> = [];
  #timer: NodeJS.Timeout | undefined;
  #sampling: Promise<void> = Promise.resolve();

  /** Processes to follow under a group name (`replicas`, `postgres`); `pids` is asked again at every sample. */
  follow(group: string, pids: () => Promise<readonly number[]> | readonly number[]): this {
    this.#sources.push({ group, pids });
    return this;
  }

  start(everyMs = 1_000): this {
    this.#timer = setInterval(() => {
      this.#sampling = this.#sampling.then(() => this.sample());
    }, everyMs);
    this.#timer.unref();
    return this;
  }

  async sample(): Promise<void> {
    for (const source of this.#sources) {
      const pids = await Promise.resolve(source.pids()).catch(() => []);
      for (const pid of pids) {
        const ms = await processCpuMs(pid);
        if (ms !== undefined) this.#last.set(pid, { group: source.group, ms });
      }
    }
  }

  /** Starts the measured window: what the followed processes used so far is not counted. */
  async mark(): Promise<void> {
    await this.sample();
    this.#baseline.clear();
    for (const [pid, { ms }] of this.#last) this.#baseline.set(pid, ms);
  }

  /** Takes a last sample, stops, and returns the CPU milliseconds per group. */
  async stop(): Promise<Record<string, number>> {
    clearInterval(this.#timer);
    await this.#sampling;
    await this.sample();
    return this.totals();
  }

  totals(): Record<string, number> {
    const totals: Record<string, number> = {};
    for (const [pid, { group, ms }] of this.#last)
      totals[group] = (totals[group] ?? 0) + ms - (this.#baseline.get(pid) ?? 0);
    return totals;
  }
}
