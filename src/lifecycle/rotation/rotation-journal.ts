// The durable rotation journal: one row per rotation in the operational store, advanced with a compare-and-set on
// (state, lease owner) so two workers never drive the same rotation, and with the step's event in the same
// transaction when there is one. It never holds key material: ids, labels, version ids and fingerprints only.
// Writes asked for at the same moment by rotations running side by side are committed together, in one
// transaction (group commit): each still resolves only once it is committed, so a step's intent is durable before
// its side effect, but a bulk run pays one commit for many rows instead of one each.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Kysely, Selectable } from 'kysely';
import type { OperationalSchema, RotationJournalTable } from '../../db/operational-schema.js';
import { writeTransaction } from '../../db/write-transaction.js';
import type { AppendEventInput, EventLog } from '../../events/event-log.js';
import type { Clock } from '../../runtime/clock.js';
import { RotationError } from './rotation-error.js';
import { type RotationState, type RotationTrigger, TERMINAL_STATES } from './rotation-states.js';

export type RotationRow = Selectable<RotationJournalTable> & { state: RotationState };

export interface PlanRotationInput {
  keyId: string;
  provider: string;
  account?: string;
  trigger: RotationTrigger;
  store: string;
  path: string;
  oldProviderKeyId?: string;
  notBefore?: Date;
}

/** Fields a step may set when it advances a row. */
export type RotationFields = Partial<
  Pick<
    RotationJournalTable,
    'new_provider_key_id' | 'new_version_id' | 'fingerprint' | 'failure' | 'rollback_reason' | 'not_before' | 'attempts'
  >
>;

/**
 * Who drives rotations in this process: `<host>:<pid>:<process start>:<random>`, so a resumer can tell a dead holder
 * from a live one even when the pid has been reused (pid_max is often 32,768).
 */
export function newLeaseOwner(): string {
  return `${hostname()}:${process.pid}:${processStartTime(process.pid) ?? '-'}:${randomUUID().slice(0, 8)}`;
}

/** True when the lease owner is a process on this host that no longer exists (or whose pid now names another). */
export function leaseOwnerIsDead(owner: string): boolean {
  const [host, pidText, started] = owner.split(':');
  if (host !== hostname()) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const now = processStartTime(pid);
  return started !== undefined && started !== '-' && now !== undefined && now !== started;
}

/** The start time of a process in clock ticks since boot (Linux /proc), or undefined elsewhere. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start after the last ')'; starttime is field 22.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** One journal write: its statements, run on the handle given (a transaction when grouped), and its events. */
interface JournalWrite {
  /** Rows are written in this order within a group, so two processes' groups lock rows in the same order. */
  order: string;
  /** True when the write appends events (it then needs a transaction even alone). */
  events: boolean;
  work: (db: Kysely<OperationalSchema>) => Promise<{ value: unknown; events?: AppendEventInput[] }>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** At most this many writes share one transaction. */
const MAX_GROUP = 256;

export class RotationJournal {
  readonly #db: Kysely<OperationalSchema>;
  readonly #clock: Clock;
  readonly #events: EventLog | undefined;
  #writes: JournalWrite[] = [];
  #writing = false;
  /** Transactions committed and the writes they carried, for benches. */
  readonly groupStats = { transactions: 0, writes: 0 };

  constructor(db: Kysely<OperationalSchema>, clock: Clock, events?: EventLog) {
    this.#db = db;
    this.#clock = clock;
    this.#events = events;
  }

  /**
   * Records the intent to rotate a key, or returns the rotation already open for it (the unique index on open rows
   * makes this safe between processes). `created` says which.
   */
  async plan(input: PlanRotationInput, event?: AppendEventInput): Promise<{ row: RotationRow; created: boolean }> {
    const now = this.#clock().toISOString();
    const rotationId = randomUUID();
    const row: RotationJournalTable = {
      rotation_id: rotationId,
      key_id: input.keyId,
      provider: input.provider,
      account: input.account ?? null,
      trigger: input.trigger,
      state: 'planned',
      store: input.store,
      path: input.path,
      old_provider_key_id: input.oldProviderKeyId ?? null,
      // A label unique to this rotation, so a key minted by a crashed run can be found at the provider by name.
      new_key_name: `${input.keyId}.rot-${rotationId.slice(0, 8)}`,
      new_provider_key_id: null,
      new_version_id: null,
      fingerprint: null,
      failure: null,
      rollback_reason: null,
      attempts: 0,
      lease_owner: null,
      lease_expires_at: null,
      not_before: input.notBefore?.toISOString() ?? null,
      state_entered_at: now,
      created_at: now,
      updated_at: now,
    };
    // No look for an open rotation first: the unique index on open rows refuses a second one, and then the open
    // one is returned. (Planning a key that has one open is the exception; a read before every plan is not free.)
    try {
      await this.#write(rotationId, !!event, async (db) => {
        await db.insertInto('rotation_journal').values(row).execute();
        return { value: undefined, ...(event ? { events: [withRotationId(event, rotationId)] } : {}) };
      });
    } catch (error) {
      const open = await this.openForKey(input.keyId);
      if (open) return { row: open, created: false };
      throw error;
    }
    return { row: row as RotationRow, created: true };
  }

  async get(rotationId: string): Promise<RotationRow | undefined> {
    return (await this.#db
      .selectFrom('rotation_journal')
      .selectAll()
      .where('rotation_id', '=', rotationId)
      .executeTakeFirst()) as RotationRow | undefined;
  }

  async openForKey(keyId: string): Promise<RotationRow | undefined> {
    return (await this.#db
      .selectFrom('rotation_journal')
      .selectAll()
      .where('key_id', '=', keyId)
      .where('state', 'not in', [...TERMINAL_STATES])
      .executeTakeFirst()) as RotationRow | undefined;
  }

  /** Every rotation not yet done, rolled back or failed, oldest first. */
  async unfinished(): Promise<RotationRow[]> {
    return (await this.#db
      .selectFrom('rotation_journal')
      .selectAll()
      .where('state', 'not in', [...TERMINAL_STATES])
      .orderBy('created_at')
      .orderBy('rotation_id')
      .execute()) as RotationRow[];
  }

  async list(filter: { keyId?: string; states?: RotationState[]; limit?: number } = {}): Promise<RotationRow[]> {
    let query = this.#db.selectFrom('rotation_journal').selectAll();
    if (filter.keyId) query = query.where('key_id', '=', filter.keyId);
    if (filter.states?.length) query = query.where('state', 'in', filter.states);
    return (await query
      .orderBy('created_at', 'desc')
      .limit(filter.limit ?? 1000)
      .execute()) as RotationRow[];
  }

  /** Counts of rows per state. */
  async countByState(): Promise<Record<string, number>> {
    const rows = await this.#db
      .selectFrom('rotation_journal')
      .select(['state', (eb) => eb.fn.countAll<number>().as('count')])
      .groupBy('state')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.state, Number(row.count)]));
  }

  /**
   * Takes the lease of a row for `leaseMs`: when nobody holds it, it expired, we hold it already, or its holder is
   * a dead process on this host (a crash). False when a live worker holds it.
   */
  async claim(rotationId: string, owner: string, leaseMs: number): Promise<RotationRow | undefined> {
    const now = this.#clock();
    const expires = new Date(now.getTime() + leaseMs).toISOString();
    const lease = { lease_owner: owner, lease_expires_at: expires, updated_at: now.toISOString() };
    // The usual case in one statement: nobody holds the row, we do, or the lease ran out.
    const taken = (await this.#write(rotationId, false, async (db) => ({
      value: await db
        .updateTable('rotation_journal')
        .set(lease)
        .where('rotation_id', '=', rotationId)
        .where('state', 'not in', [...TERMINAL_STATES])
        .where((eb) =>
          eb.or([
            eb('lease_owner', 'is', null),
            eb('lease_owner', '=', owner),
            eb('lease_expires_at', 'is', null),
            eb('lease_expires_at', '<=', now.toISOString()),
          ]),
        )
        .returningAll()
        .executeTakeFirst(),
    }))) as RotationRow | undefined;
    if (taken) return taken;
    // Held by someone else: taken over only when the holder is a dead process on this host.
    const row = await this.get(rotationId);
    if (!row || TERMINAL_STATES.has(row.state) || row.lease_owner === null || !leaseOwnerIsDead(row.lease_owner))
      return undefined;
    const heldBy = row.lease_owner;
    const result = (await this.#write(rotationId, false, async (db) => ({
      value: await db
        .updateTable('rotation_journal')
        .set(lease)
        .where('rotation_id', '=', rotationId)
        .where('state', '=', row.state)
        .where('lease_owner', '=', heldBy)
        .executeTakeFirst(),
    }))) as { numUpdatedRows: bigint };
    if (Number(result.numUpdatedRows) !== 1) return undefined;
    return { ...row, ...lease };
  }

  /** Gives a lease back (a deferred rotation), so another worker may pick the row up at `not_before`. */
  async release(rotationId: string, owner: string): Promise<void> {
    await this.#write(rotationId, false, async (db) => {
      await db
        .updateTable('rotation_journal')
        .set({ lease_owner: null, lease_expires_at: null })
        .where('rotation_id', '=', rotationId)
        .where('lease_owner', '=', owner)
        .execute();
      return { value: undefined };
    });
  }

  /**
   * Moves a row from `from` to `to` (same state allowed: a field update), renewing the lease, and appends `event`
   * in the same transaction. Throws E_ROTATION_LEASE_LOST when the row is no longer ours in that state.
   */
  async advance(
    row: RotationRow,
    to: RotationState,
    fields: RotationFields,
    options: { owner: string; leaseMs: number; event?: AppendEventInput },
  ): Promise<RotationRow> {
    const now = this.#clock();
    const set = {
      ...fields,
      state: to,
      lease_expires_at: new Date(now.getTime() + options.leaseMs).toISOString(),
      updated_at: now.toISOString(),
      ...(to !== row.state ? { state_entered_at: now.toISOString() } : {}),
      ...(TERMINAL_STATES.has(to) ? { lease_owner: null, lease_expires_at: null } : {}),
    };
    const event = options.event && this.#events ? withRotationId(options.event, row.rotation_id) : undefined;
    const result = (await this.#write(row.rotation_id, !!event, async (db) => {
      const updated = await db
        .updateTable('rotation_journal')
        .set(set)
        .where('rotation_id', '=', row.rotation_id)
        .where('state', '=', row.state)
        .where('lease_owner', '=', options.owner)
        .executeTakeFirst();
      // The step's event only when the step was ours to record.
      return { value: updated, ...(event && Number(updated.numUpdatedRows) === 1 ? { events: [event] } : {}) };
    })) as { numUpdatedRows: bigint };
    if (Number(result.numUpdatedRows) !== 1) {
      throw new RotationError(
        'E_ROTATION_LEASE_LOST',
        `rotation ${row.rotation_id} of ${row.key_id} is no longer held by this worker in state ${row.state}`,
        {
          category: 'conflict',
        },
      );
    }
    return { ...row, ...set } as RotationRow;
  }

  /**
   * Appends an event about a rotation outside any state change (the orphan sweep of `rotate --resume`); without a
   * rotation id, about a key that no rotation row accounts for.
   */
  async recordEvent(rotationId: string | undefined, event: AppendEventInput): Promise<void> {
    if (!this.#events) return;
    const withId = rotationId ? withRotationId(event, rotationId) : event;
    await this.#write(rotationId ?? event.keyId ?? '', true, async () => ({ value: undefined, events: [withId] }));
  }

  /**
   * Queues a write for the next group: every write asked for before the group starts joins it (up to MAX_GROUP),
   * in one transaction. A group that fails is rolled back and its writes run one by one, so one write's error
   * (a unique-index refusal, say) is its own.
   */
  #write(order: string, events: boolean, work: JournalWrite['work']): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#writes.push({ order, events, work, resolve, reject });
      if (!this.#writing) {
        this.#writing = true;
        setImmediate(() => void this.#flushWrites());
      }
    });
  }

  async #flushWrites(): Promise<void> {
    try {
      while (this.#writes.length > 0) {
        const group = this.#writes.splice(0, MAX_GROUP);
        if (group.length === 1) {
          await this.#writeAlone(group[0]!);
          continue;
        }
        group.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
        let values: unknown[];
        try {
          values = await writeTransaction(this.#db, async (trx) => {
            const results: unknown[] = [];
            const appended: AppendEventInput[] = [];
            for (const write of group) {
              const { value, events } = await write.work(trx);
              results.push(value);
              if (events) appended.push(...events);
            }
            if (appended.length && this.#events) await this.#events.appendWithin(trx, appended);
            return results;
          });
        } catch {
          for (const write of group) await this.#writeAlone(write);
          continue;
        }
        this.groupStats.transactions += 1;
        this.groupStats.writes += group.length;
        for (const [index, write] of group.entries()) write.resolve(values[index]);
      }
    } finally {
      this.#writing = false;
    }
  }

  async #writeAlone(write: JournalWrite): Promise<void> {
    try {
      const run = async (db: Kysely<OperationalSchema>) => {
        const { value, events } = await write.work(db);
        if (events?.length && this.#events) await this.#events.appendWithin(db, events);
        return value;
      };
      const value = write.events ? await writeTransaction(this.#db, run) : await run(this.#db);
      this.groupStats.transactions += 1;
      this.groupStats.writes += 1;
      write.resolve(value);
    } catch (error) {
      write.reject(error);
    }
  }
}

function withRotationId(event: AppendEventInput, rotationId: string): AppendEventInput {
  return { ...event, data: { rotation_id: rotationId, ...(event.data ?? {}) } };
}
