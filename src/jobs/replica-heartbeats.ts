// The replicas of a fleet (docs/scale-out.md): every `keyledger server` writes a row when it starts and beats it on
// an interval, so any replica can tell who is alive (health, /metrics) and which leases a dead one still holds.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely, Selectable } from 'kysely';
import type { OperationalSchema, ReplicasTable } from '../db/operational-schema.js';
import type { Clock } from '../runtime/clock.js';

export type ReplicaRow = Selectable<ReplicasTable>;

/** How often a replica beats by default; it counts as dead after three missed beats. */
export const DEFAULT_BEAT_MS = 5_000;

/** A replica's id: `<host>:<pid>:<random>`, unique even when a pid is reused after a crash. */
export function newReplicaId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

export interface ReplicaStatus {
  replicaId: string;
  host: string;
  pid: number;
  url: string | null;
  worker: boolean;
  startedAt: string;
  beatAt: string;
  alive: boolean;
}

export class ReplicaHeartbeats {
  readonly #db: Kysely<OperationalSchema>;
  readonly #clock: Clock;
  readonly #beatMs: number;

  constructor(db: Kysely<OperationalSchema>, clock: Clock, options: { beatMs?: number } = {}) {
    this.#db = db;
    this.#clock = clock;
    this.#beatMs = options.beatMs ?? DEFAULT_BEAT_MS;
  }

  get beatMs(): number {
    return this.#beatMs;
  }

  async register(replica: { replicaId: string; url?: string; worker: boolean }): Promise<void> {
    const now = this.#clock().toISOString();
    await this.#db
      .insertInto('replicas')
      .values({
        replica_id: replica.replicaId,
        host: hostname(),
        pid: process.pid,
        url: replica.url ?? null,
        worker: replica.worker ? 1 : 0,
        started_at: now,
        beat_at: now,
        stopped_at: null,
      })
      .execute();
  }

  async beat(replicaId: string): Promise<void> {
    await this.#db
      .updateTable('replicas')
      .set({ beat_at: this.#clock().toISOString() })
      .where('replica_id', '=', replicaId)
      .execute();
  }

  /** A clean stop: the row says so (a crash leaves only an old beat). */
  async stopped(replicaId: string): Promise<void> {
    await this.#db
      .updateTable('replicas')
      .set({ stopped_at: this.#clock().toISOString() })
      .where('replica_id', '=', replicaId)
      .execute();
  }

  /** Replicas seen within the last `sinceMs` (default 10 minutes), newest first; alive: beat within three beats. */
  async list(options: { sinceMs?: number } = {}): Promise<ReplicaStatus[]> {
    const now = this.#clock().getTime();
    const rows = await this.#db
      .selectFrom('replicas')
      .selectAll()
      .where('beat_at', '>=', new Date(now - (options.sinceMs ?? 600_000)).toISOString())
      .orderBy('started_at', 'desc')
      .execute();
    return rows.map((row) => ({
      replicaId: row.replica_id,
      host: row.host,
      pid: Number(row.pid),
      url: row.url,
      worker: Number(row.worker) === 1,
      startedAt: row.started_at,
      beatAt: row.beat_at,
      alive: row.stopped_at === null && Date.parse(row.beat_at) >= now - 3 * this.#beatMs,
    }));
  }

  /** Ids of replicas alive now. */
  async aliveIds(): Promise<Set<string>> {
    return new Set((await this.list()).filter((replica) => replica.alive).map((replica) => replica.replicaId));
  }
}
