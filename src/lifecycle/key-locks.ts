// Per-key locks with fencing tokens, shared by every operation that changes a key at its provider — rotation
// (src/lifecycle/rotation/rotation-journal.ts takes the lock with each rotation lease) and revocation
// (key-revocation.ts; offboarding's revokes go through it) and split (key-split.ts, for its whole run) — so two of them
// never act on one key at once, on any number of replicas. A lock is a lease: it lapses at `expires_at` unless
// renewed, and then anyone may take it; a holder on this host that died is taken over at once. Every acquisition
// adds one to the key's `token` (migration 0017), so a holder that paused past its lease carries a token the row no
// longer has: `renew` refuses it, and a holder renews before every external effect (docs/rotation.md, "Several
// replicas: leases and fencing").
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Kysely, Selectable } from 'kysely';
import type { KeyLocksTable, OperationalSchema } from '../db/operational-schema.js';
import { KeyledgerError } from '../errors/keyledger-error.js';
import type { Clock } from '../runtime/clock.js';

/** What holds a key: a rotation, a revocation or a split. */
export type KeyOperation = 'rotation' | 'revocation' | 'split';

/** A lock a holder has: its token is the fence every later write and effect is checked against. */
export interface KeyLease {
  keyId: string;
  holder: string;
  token: number;
  operation: KeyOperation;
  operationId: string;
  /** ISO time by the holder's clock; the holder stops acting a clock-skew margin before it. */
  expiresAt: string;
}

export type KeyLockRow = Selectable<KeyLocksTable>;

/** The key is held by another live holder: nothing was done. */
export class KeyBusyError extends KeyledgerError {
  constructor(keyId: string, held: KeyLockRow | undefined, what: string) {
    const by = held?.operation ? `is held by ${held.operation} ${held.operation_id ?? ''}`.trim() : 'is busy';
    super('E_KEY_BUSY', `${keyId} ${by}${held?.expires_at ? ` until ${held.expires_at}` : ''}: ${what}`, {
      category: 'conflict',
      details: {
        keyId,
        ...(held?.operation ? { operation: held.operation, operationId: held.operation_id } : {}),
        ...(held?.expires_at ? { expiresAt: held.expires_at } : {}),
      },
    });
  }
}

/** The holder's lease lapsed and someone else took the key (or it was released): the holder must stop. */
export class KeyLockLostError extends KeyledgerError {
  constructor(lease: Pick<KeyLease, 'keyId' | 'token' | 'operation' | 'operationId'>) {
    super(
      'E_KEY_LOCK_LOST',
      `${lease.operation} ${lease.operationId} no longer holds ${lease.keyId} (fencing token ${lease.token} is stale): nothing more was done`,
      { category: 'conflict', details: { keyId: lease.keyId, token: lease.token } },
    );
  }
}

/**
 * Who acts in this process: `<host>:<pid>:<process start>:<random>`, so a resumer can tell a dead holder from a
 * live one even when the pid has been reused (pid_max is often 32,768).
 */
export function newLeaseOwner(): string {
  return `${hostname()}:${process.pid}:${processStartTime(process.pid) ?? '-'}:${randomUUID().slice(0, 8)}`;
}

/**
 * True when the lease owner is a process on this host that no longer exists (or whose pid now names another). A
 * holder on another host is never judged dead here: only its lease running out frees what it holds.
 */
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

export interface AcquireKeyLock {
  holder: string;
  operation: KeyOperation;
  operationId: string;
  leaseMs: number;
}

export class KeyLocks {
  readonly #db: Kysely<OperationalSchema>;
  readonly #clock: Clock;

  constructor(db: Kysely<OperationalSchema>, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  /**
   * Takes the key's lock for `leaseMs` when it is free, lapsed, ours already, or held by a dead process on this
   * host; the token grows by one either way. Undefined when a live holder has it. `db` may be a transaction.
   */
  async acquire(
    keyId: string,
    request: AcquireKeyLock,
    db: Kysely<OperationalSchema> = this.#db,
  ): Promise<KeyLease | undefined> {
    const now = this.#clock();
    const nowText = now.toISOString();
    const expires = new Date(now.getTime() + request.leaseMs).toISOString();
    await db
      .insertInto('key_locks')
      .values({
        key_id: keyId,
        holder: null,
        token: 0,
        operation: null,
        operation_id: null,
        expires_at: null,
        updated_at: nowText,
      })
      .onConflict((conflict) => conflict.column('key_id').doNothing())
      .execute();
    const taken = await db
      .updateTable('key_locks')
      .set((eb) => ({
        holder: request.holder,
        token: eb('token', '+', 1),
        operation: request.operation,
        operation_id: request.operationId,
        expires_at: expires,
        updated_at: nowText,
      }))
      .where('key_id', '=', keyId)
      .where((eb) =>
        eb.or([
          eb('holder', 'is', null),
          eb('holder', '=', request.holder),
          eb('expires_at', 'is', null),
          eb('expires_at', '<=', nowText),
        ]),
      )
      .returningAll()
      .executeTakeFirst();
    if (taken) return leaseOf(taken);
    // Held by someone else: taken over only when the holder is a dead process on this host.
    const held = await this.get(keyId, db);
    if (!held?.holder || !leaseOwnerIsDead(held.holder)) return undefined;
    const over = await db
      .updateTable('key_locks')
      .set((eb) => ({
        holder: request.holder,
        token: eb('token', '+', 1),
        operation: request.operation,
        operation_id: request.operationId,
        expires_at: expires,
        updated_at: nowText,
      }))
      .where('key_id', '=', keyId)
      .where('holder', '=', held.holder)
      .where('token', '=', held.token)
      .returningAll()
      .executeTakeFirst();
    return over ? leaseOf(over) : undefined;
  }

  /** Like `acquire`, but throws KeyBusyError (naming the holder) instead of returning undefined. */
  async acquireOrThrow(keyId: string, request: AcquireKeyLock, what: string): Promise<KeyLease> {
    const lease = await this.acquire(keyId, request);
    if (lease) return lease;
    throw new KeyBusyError(keyId, await this.get(keyId), what);
  }

  /**
   * Extends the lease to `leaseMs` from now, proving it is still ours under the same token; KeyLockLostError when
   * not (it lapsed and someone took the key, or it was released). `db` may be a transaction.
   */
  async renew(lease: KeyLease, leaseMs: number, db: Kysely<OperationalSchema> = this.#db): Promise<KeyLease> {
    const now = this.#clock();
    const expiresAt = new Date(now.getTime() + leaseMs).toISOString();
    const result = await db
      .updateTable('key_locks')
      .set({ expires_at: expiresAt, updated_at: now.toISOString() })
      .where('key_id', '=', lease.keyId)
      .where('holder', '=', lease.holder)
      .where('token', '=', lease.token)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw new KeyLockLostError(lease);
    return { ...lease, expiresAt };
  }

  /** Gives the lock back (the token stays: the next holder's is one more). A stale lease releases nothing. */
  async release(lease: Pick<KeyLease, 'keyId' | 'holder' | 'token'>, db: Kysely<OperationalSchema> = this.#db) {
    await db
      .updateTable('key_locks')
      .set({
        holder: null,
        operation: null,
        operation_id: null,
        expires_at: null,
        updated_at: this.#clock().toISOString(),
      })
      .where('key_id', '=', lease.keyId)
      .where('holder', '=', lease.holder)
      .where('token', '=', lease.token)
      .execute();
  }

  async get(keyId: string, db: Kysely<OperationalSchema> = this.#db): Promise<KeyLockRow | undefined> {
    return db.selectFrom('key_locks').selectAll().where('key_id', '=', keyId).executeTakeFirst();
  }
}

function leaseOf(row: KeyLockRow): KeyLease {
  return {
    keyId: row.key_id,
    holder: row.holder!,
    token: Number(row.token),
    operation: row.operation as KeyOperation,
    operationId: row.operation_id!,
    expiresAt: row.expires_at!,
  };
}
