// The durable rotation journal: one row per rotation in the operational store, advanced with a compare-and-set on
// (state, lease owner) so two workers never drive the same rotation, and with the step's event in the same
// transaction when there is one. It never holds key material: ids, labels, version ids and fingerprints only.
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

export class RotationJournal {
  readonly #db: Kysely<OperationalSchema>;
  readonly #clock: Clock;
  readonly #events: EventLog | undefined;

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
    const open = await this.openForKey(input.keyId);
    if (open) return { row: open, created: false };
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
    try {
      await writeTransaction(this.#db, async (trx) => {
        await trx.insertInto('rotation_journal').values(row).execute();
        if (event && this.#events) await this.#events.appendWithin(trx, [withRotationId(event, rotationId)]);
      });
    } catch (error) {
      const raced = await this.openForKey(input.keyId);
      if (raced) return { row: raced, created: false };
      throw error;
    }
    return { row: row as RotationRow, created: true };
  }

  async get(rotationId: string): Promise<RotationRow | undefined> {
    return (await this.#db.selectFrom('rotation_journal').selectAll().where('rotation_id', '=', rotationId).executeTakeFirst()) as
      | RotationRow
      | undefined;
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
    return (await query.orderBy('created_at', 'desc').limit(filter.limit ?? 1000).execute()) as RotationRow[];
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
    const row = await this.get(rotationId);
    if (!row || TERMINAL_STATES.has(row.state)) return undefined;
    const now = this.#clock();
    const free =
      row.lease_owner === null ||
      row.lease_owner === owner ||
      row.lease_expires_at === null ||
      row.lease_expires_at <= now.toISOString() ||
      leaseOwnerIsDead(row.lease_owner);
    if (!free) return undefined;
    const expires = new Date(now.getTime() + leaseMs).toISOString();
    let query = this.#db
      .updateTable('rotation_journal')
      .set({ lease_owner: owner, lease_expires_at: expires, updated_at: now.toISOString() })
      .where('rotation_id', '=', rotationId)
      .where('state', '=', row.state);
    query = row.lease_owner === null ? query.where('lease_owner', 'is', null) : query.where('lease_owner', '=', row.lease_owner);
    const result = await query.executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return undefined;
    return { ...row, lease_owner: owner, lease_expires_at: expires };
  }

  /** Gives a lease back (a deferred rotation), so another worker may pick the row up at `not_before`. */
  async release(rotationId: string, owner: string): Promise<void> {
    await this.#db
      .updateTable('rotation_journal')
      .set({ lease_owner: null, lease_expires_at: null })
      .where('rotation_id', '=', rotationId)
      .where('lease_owner', '=', owner)
      .execute();
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
    const update = (db: Kysely<OperationalSchema>) =>
      db
        .updateTable('rotation_journal')
        .set(set)
        .where('rotation_id', '=', row.rotation_id)
        .where('state', '=', row.state)
        .where('lease_owner', '=', options.owner)
        .executeTakeFirst();
    const event = options.event;
    const result =
      event && this.#events
        ? await writeTransaction(this.#db, async (trx) => {
            const updated = await update(trx);
            if (Number(updated.numUpdatedRows) === 1) await this.#events!.appendWithin(trx, [withRotationId(event, row.rotation_id)]);
            return updated;
          })
        : await update(this.#db);
    if (Number(result.numUpdatedRows) !== 1) {
      throw new RotationError('E_ROTATION_LEASE_LOST', `rotation ${row.rotation_id} of ${row.key_id} is no longer held by this worker in state ${row.state}`, {
        category: 'conflict',
      });
    }
    return { ...row, ...set } as RotationRow;
  }
}

function withRotationId(event: AppendEventInput, rotationId: string): AppendEventInput {
  return { ...event, data: { rotation_id: rotationId, ...(event.data ?? {}) } };
}
