// The revocation journal: a `keyledger revoke` records its plan before its first external effect and marks each
// step done as it goes, so one that stopped half-way (provider revoked, registry not yet marked) stays `pending`
// and is finished by running the same command again or `keyledger revoke --resume` (src/lifecycle/key-revocation.ts).
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { OperationalSchema, RevocationJournalTable } from '../db/operational-schema.js';
import { writeTransaction } from '../db/write-transaction.js';
import { KeyledgerError } from '../errors/keyledger-error.js';
import type { Clock } from '../runtime/clock.js';
import { KeyLocks } from './key-locks.js';
import { TERMINAL_STATES } from './rotation/rotation-states.js';

/** The steps of a revoke, in the order they run. */
export type RevocationStepName = 'provider' | 'secret' | 'registry' | 'event';

export interface RevocationStep {
  step: RevocationStepName;
  /** What the step does, in the words the error and the event use: `revoke internal key ik_...`. */
  description: string;
  done: boolean;
}

export interface RevocationRecord {
  revocationId: string;
  keyId: string;
  provider: string;
  state: 'pending' | 'done';
  actor: string;
  reason?: string;
  plan: RevocationStep[];
  failure?: string;
  createdAt: string;
  updatedAt: string;
}

export class RevocationJournal {
  readonly #db: Kysely<OperationalSchema>;
  readonly #clock: Clock;
  /** The per-key locks a revoke holds while it runs (shared with rotations and splits, key-locks.ts). */
  readonly locks: KeyLocks;

  constructor(db: Kysely<OperationalSchema>, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
    this.locks = new KeyLocks(db, clock);
  }

  /** The key's unfinished rotation, if any: a revoke waits for it to finish or roll back. */
  async openRotation(keyId: string): Promise<{ rotationId: string; state: string } | undefined> {
    const row = await this.#db
      .selectFrom('rotation_journal')
      .select(['rotation_id', 'state'])
      .where('key_id', '=', keyId)
      .where('state', 'not in', [...TERMINAL_STATES])
      .executeTakeFirst();
    return row ? { rotationId: row.rotation_id, state: row.state } : undefined;
  }

  /** Records a revoke about to start. A second unfinished revoke of the same key is refused by the database. */
  async start(input: {
    keyId: string;
    provider: string;
    actor: string;
    reason?: string;
    plan: RevocationStep[];
  }): Promise<RevocationRecord> {
    const now = this.#clock().toISOString();
    const row: RevocationJournalTable = {
      revocation_id: randomUUID(),
      key_id: input.keyId,
      provider: input.provider,
      state: 'pending',
      actor: input.actor,
      reason: input.reason ?? null,
      plan: JSON.stringify(input.plan),
      failure: null,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.#db.insertInto('revocation_journal').values(row).execute();
    } catch (error) {
      if (await this.pendingFor(input.keyId)) {
        throw new KeyledgerError('E_REVOKE_IN_PROGRESS', `another revoke of ${input.keyId} has just started`, {
          category: 'conflict',
          cause: error,
        });
      }
      throw error;
    }
    return recordOf(row);
  }

  async pendingFor(keyId: string): Promise<RevocationRecord | undefined> {
    const row = await this.#db
      .selectFrom('revocation_journal')
      .selectAll()
      .where('key_id', '=', keyId)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return row ? recordOf(row) : undefined;
  }

  /** Every unfinished revoke, oldest first (then by key_id). */
  async pending(): Promise<RevocationRecord[]> {
    const rows = await this.#db
      .selectFrom('revocation_journal')
      .selectAll()
      .where('state', '=', 'pending')
      .orderBy('created_at')
      .orderBy('key_id')
      .execute();
    return rows.map(recordOf);
  }

  /** Runs `work` in one write transaction of the journal's store (the event and the `done` commit together). */
  transaction<T>(work: (trx: Kysely<OperationalSchema>) => Promise<T>): Promise<T> {
    return writeTransaction(this.#db, work);
  }

  /** Saves the plan's progress (and why it stopped, when it did). `db` may be a transaction. */
  async save(
    record: RevocationRecord,
    changes: { failure?: string | null; state?: 'pending' | 'done' } = {},
    db: Kysely<OperationalSchema> = this.#db,
  ): Promise<void> {
    const now = this.#clock().toISOString();
    await db
      .updateTable('revocation_journal')
      .set({
        plan: JSON.stringify(record.plan),
        updated_at: now,
        ...(changes.failure !== undefined ? { failure: changes.failure } : {}),
        ...(changes.state ? { state: changes.state } : {}),
      })
      .where('revocation_id', '=', record.revocationId)
      .execute();
    record.updatedAt = now;
    if (changes.failure !== undefined) {
      if (changes.failure === null) delete record.failure;
      else record.failure = changes.failure;
    }
    if (changes.state) record.state = changes.state;
  }
}

function recordOf(row: RevocationJournalTable): RevocationRecord {
  return {
    revocationId: row.revocation_id,
    keyId: row.key_id,
    provider: row.provider,
    state: row.state,
    actor: row.actor,
    ...(row.reason ? { reason: row.reason } : {}),
    plan: JSON.parse(row.plan) as RevocationStep[],
    ...(row.failure ? { failure: row.failure } : {}),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
