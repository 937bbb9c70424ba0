// The durable rotation journal: one row per rotation in the operational store, advanced with a compare-and-set on
// (state, lease owner) so two workers never drive the same rotation, and with the step's event in the same
// transaction when there is one. It never holds key material: ids, labels, version ids and fingerprints only.
// Writes asked for at the same moment by rotations running side by side are committed together, in one
// transaction (group commit): each still resolves only once it is committed, so a step's intent is durable before
// its side effect, but a bulk run pays one commit for many rows instead of one each.
// A rotation's lease is also the key's lock (src/lifecycle/key-locks.ts): `claim` takes both in one transaction and
// records the lock's fencing token on the row; every advance renews both under that token, so a worker that paused
// past its lease (another replica took the key) is refused, and a revoke or split of the key waits its turn.
import { randomUUID } from 'node:crypto';
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { OperationalSchema, RotationJournalTable } from '../../db/operational-schema.js';
import { writeTransaction } from '../../db/write-transaction.js';
import type { AppendEventInput, EventLog } from '../../events/event-log.js';
import type { Clock } from '../../runtime/clock.js';
import { type KeyLockRow, KeyLocks, leaseOwnerIsDead } from '../key-locks.js';
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

// Where they were defined before per-key locks existed; imported from here by the rotator and tests.
export { leaseOwnerIsDead, newLeaseOwner } from '../key-locks.js';

/** One journal write: its statements, run on the handle given (a transaction when grouped), and its events. */
interface JournalWrite {
  /** Rows are written in this order within a group, so two processes' groups lock rows in the same order. */
  order: string;
  /** True when the write appends events or runs several statements: it then needs a transaction even alone. */
  transaction: boolean;
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
  readonly #locks: KeyLocks;
  #writes: JournalWrite[] = [];
  #writing = false;
  /** Transactions committed and the writes they carried, for benches. */
  readonly groupStats = { transactions: 0, writes: 0 };

  constructor(db: Kysely<OperationalSchema>, clock: Clock, events?: EventLog) {
    this.#db = db;
    this.#clock = clock;
    this.#events = events;
    this.#locks = new KeyLocks(db, clock);
  }

  /**
   * Records the intent to rotate a key, or returns the rotation already open for it (the unique index on open rows
   * makes this safe between processes). `created` says which.
   */
  async plan(input: PlanRotationInput, event?: AppendEventInput): Promise<{ row: RotationRow; created: boolean }> {
    const now = this.#clock().toISOString();
    const rotationId = randomUUID();
    const row: Insertable<RotationJournalTable> = {
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
    // A rotation away from a provider key that a finished rotation already replaced would mint a second new key
    // and revoke a key that is gone: the caller read the entry before that rotation reached the registry (another
    // replica's due tick, src/app/rotation-job-kinds.ts). The journal, not the registry copy, is the authority.
    if (input.oldProviderKeyId) {
      const replaced = await this.replacedBy(input.keyId, input.oldProviderKeyId);
      if (replaced)
        throw new RotationError(
          'E_ROTATION_KEY_ALREADY_REPLACED',
          `${input.keyId}: provider key ${input.oldProviderKeyId} was already replaced by rotation ${replaced.rotation_id}` +
            ` (now ${replaced.new_provider_key_id ?? 'unknown'}); the entry read is older than the journal: read it again`,
          { category: 'conflict', details: { rotationId: replaced.rotation_id } },
        );
    }
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
    return { row: { ...row, fence_token: 0 } as RotationRow, created: true };
  }

  async get(rotationId: string): Promise<RotationRow | undefined> {
    return (await this.#db
      .selectFrom('rotation_journal')
      .selectAll()
      .where('rotation_id', '=', rotationId)
      .executeTakeFirst()) as RotationRow | undefined;
  }

  /** The finished rotation that replaced `providerKeyId` as the key's provider key, if one did. */
  async replacedBy(keyId: string, providerKeyId: string): Promise<RotationRow | undefined> {
    return (await this.#db
      .selectFrom('rotation_journal')
      .selectAll()
      .where('key_id', '=', keyId)
      .where('old_provider_key_id', '=', providerKeyId)
      .where('state', '=', 'done')
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
   * Takes the lease of a row for `leaseMs`, with the lock of its key, in one transaction: when nobody holds them,
   * they lapsed, we hold them already, or their holder is a dead process on this host (a crash). The key's fencing
   * token grows by one and is recorded on the row (`fence_token`): a worker still driving the row under the old
   * token is refused from its next write on. Undefined when a live worker holds the row, or another operation
   * (a revoke, a split) holds the key or left a revoke of it pending.
   */
  async claim(rotationId: string, owner: string, leaseMs: number): Promise<RotationRow | undefined> {
    const now = this.#clock();
    const nowText = now.toISOString();
    const expires = new Date(now.getTime() + leaseMs).toISOString();
    try {
      return (await this.#write(rotationId, true, async (db) => {
        const row = (await db
          .selectFrom('rotation_journal')
          .selectAll()
          .where('rotation_id', '=', rotationId)
          .executeTakeFirst()) as RotationRow | undefined;
        if (!row || TERMINAL_STATES.has(row.state) || !leaseFree(row.lease_owner, row.lease_expires_at, owner, nowText))
          return { value: undefined };
        const lock = await this.#locks.get(row.key_id, db);
        // A lock held for this very rotation goes with the row (they are taken and renewed together).
        const heldForRow = lock?.operation === 'rotation' && lock.operation_id === rotationId;
        if (lock && !heldForRow && !leaseFree(lock.holder, lock.expires_at, owner, nowText))
          return { value: undefined };
        const revoking = await db
          .selectFrom('revocation_journal')
          .select('revocation_id')
          .where('key_id', '=', row.key_id)
          .where('state', '=', 'pending')
          .executeTakeFirst();
        if (revoking) return { value: undefined };
        const token = await this.#takeLock(db, row.key_id, lock, { owner, rotationId, expires, now: nowText });
        const lease = { lease_owner: owner, lease_expires_at: expires, fence_token: token, updated_at: nowText };
        const updated = await db
          .updateTable('rotation_journal')
          .set(lease)
          .where('rotation_id', '=', rotationId)
          .where('state', '=', row.state)
          .where('fence_token', '=', row.fence_token)
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) !== 1) throw new ClaimRaced();
        return { value: { ...row, ...lease } };
      })) as RotationRow | undefined;
    } catch (error) {
      // Another worker changed the row or the lock between our read and our write: it is theirs.
      if (error instanceof ClaimRaced) return undefined;
      throw error;
    }
  }

  /** The key lock's next token, taken with a compare-and-set on what was read (or a new lock row). */
  async #takeLock(
    db: Kysely<OperationalSchema>,
    keyId: string,
    read: KeyLockRow | undefined,
    lease: { owner: string; rotationId: string; expires: string; now: string },
  ): Promise<number> {
    const set = {
      holder: lease.owner,
      operation: 'rotation',
      operation_id: lease.rotationId,
      expires_at: lease.expires,
      updated_at: lease.now,
    };
    if (!read) {
      const inserted = await db
        .insertInto('key_locks')
        .values({ key_id: keyId, token: 1, ...set })
        .onConflict((conflict) => conflict.column('key_id').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) throw new ClaimRaced();
      return 1;
    }
    const token = Number(read.token) + 1;
    const updated = await db
      .updateTable('key_locks')
      .set({ ...set, token })
      .where('key_id', '=', keyId)
      .where('token', '=', read.token)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) throw new ClaimRaced();
    return token;
  }

  /** Gives a lease back (a deferred rotation), and its key's lock, so another worker may pick the row up. */
  async release(rotationId: string, owner: string): Promise<void> {
    await this.#write(rotationId, true, async (db) => {
      await db
        .updateTable('rotation_journal')
        .set({ lease_owner: null, lease_expires_at: null })
        .where('rotation_id', '=', rotationId)
        .where('lease_owner', '=', owner)
        .execute();
      await db
        .updateTable('key_locks')
        .set({ holder: null, operation: null, operation_id: null, expires_at: null })
        .where('holder', '=', owner)
        .where('operation', '=', 'rotation')
        .where('operation_id', '=', rotationId)
        .execute();
      return { value: undefined };
    });
  }

  /**
   * Proves the row is still ours under its fencing token and extends its lease (and its key's lock) to `leaseMs`
   * from now: called before every external effect and, as a heartbeat, while a step waits. Throws
   * E_ROTATION_LEASE_LOST when another worker took the key meanwhile.
   */
  async fence(row: RotationRow, options: { owner: string; leaseMs: number }): Promise<RotationRow> {
    const now = this.#clock();
    const expires = new Date(now.getTime() + options.leaseMs).toISOString();
    await this.#write(row.rotation_id, true, async (db) => {
      await this.#renewFenced(db, row, options.owner, expires, now.toISOString(), {});
      return { value: undefined };
    });
    return { ...row, lease_expires_at: expires };
  }

  /**
   * Renews the key lock under the row's token, then updates the row under (state, owner, token); either refusal
   * throws, rolling back the transaction it runs in. The lock row is written first: on PostgreSQL it is then locked
   * until commit, so no take-over can slip between the two statements.
   */
  async #renewFenced(
    db: Kysely<OperationalSchema>,
    row: RotationRow,
    owner: string,
    expires: string | null,
    now: string,
    set: Record<string, unknown>,
  ): Promise<void> {
    const release = expires === null;
    const lock = await db
      .updateTable('key_locks')
      .set(
        release
          ? { holder: null, operation: null, operation_id: null, expires_at: null, updated_at: now }
          : { expires_at: expires, updated_at: now },
      )
      .where('key_id', '=', row.key_id)
      .where('holder', '=', owner)
      .where('token', '=', row.fence_token)
      .executeTakeFirst();
    if (Number(lock.numUpdatedRows) !== 1) throw leaseLost(row);
    const updated = await db
      .updateTable('rotation_journal')
      .set({ lease_expires_at: expires, updated_at: now, ...set })
      .where('rotation_id', '=', row.rotation_id)
      .where('state', '=', row.state)
      .where('lease_owner', '=', owner)
      .where('fence_token', '=', row.fence_token)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) throw leaseLost(row);
  }

  /**
   * Moves a row from `from` to `to` (same state allowed: a field update), renewing the lease and the key's lock
   * under the row's fencing token (released on a terminal state), and appends `event` in the same transaction.
   * Throws E_ROTATION_LEASE_LOST when the row is no longer ours in that state under that token.
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
    await this.#write(row.rotation_id, true, async (db) => {
      const { lease_expires_at, updated_at, ...rest } = set;
      await this.#renewFenced(db, row, options.owner, lease_expires_at, updated_at, rest);
      // The step's event only when the step was ours to record (a refusal above throws first).
      return { value: undefined, ...(event ? { events: [event] } : {}) };
    });
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
  #write(order: string, transaction: boolean, work: JournalWrite['work']): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#writes.push({ order, transaction, work, resolve, reject });
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
      const value = write.transaction ? await writeTransaction(this.#db, run) : await run(this.#db);
      this.groupStats.transactions += 1;
      this.groupStats.writes += 1;
      write.resolve(value);
    } catch (error) {
      write.reject(error);
    }
  }
}

/** A lease (of a row or a key lock) another worker may take: nobody holds it, we do, or it lapsed or died. */
function leaseFree(holder: string | null, expiresAt: string | null, owner: string, now: string): boolean {
  return holder === null || holder === owner || expiresAt === null || expiresAt <= now || leaseOwnerIsDead(holder);
}

/** Thrown inside a claim's transaction when a compare-and-set lost a race: rolls it back, the claim returns nothing. */
class ClaimRaced extends Error {}

function leaseLost(row: RotationRow): RotationError {
  return new RotationError(
    'E_ROTATION_LEASE_LOST',
    `rotation ${row.rotation_id} of ${row.key_id} is no longer held by this worker in state ${row.state} (fencing token ${row.fence_token})`,
    { category: 'conflict' },
  );
}

function withRotationId(event: AppendEventInput, rotationId: string): AppendEventInput {
  return { ...event, data: { rotation_id: rotationId, ...(event.data ?? {}) } };
}
