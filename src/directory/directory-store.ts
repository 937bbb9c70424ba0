// The people directory over the operational store, on SQLite and PostgreSQL alike: people with their status,
// the signals the identity sources sent (deduplicated by signal id, ordered by when they happened at the source),
// and the departure listeners (src/directory/identity-source.ts, DirectoryUpdates). Sources write here, the SCIM
// server (src/idp/scim/) also keeps the rest of each SCIM resource here, the offboarding workflow listens.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DirectoryPeopleTable, OperationalSchema } from '../db/operational-schema.js';
import { dialectOf } from '../db/operational-store.js';
import { writeTransaction } from '../db/write-transaction.js';
import { KeyledgerError } from '../errors/keyledger-error.js';
import type { Clock } from '../runtime/clock.js';
import type {
  DepartureListener,
  DirectoryPerson,
  DirectorySignal,
  DirectoryUpdates,
  PersonStatus,
} from './identity-source.js';

export const PERSON_STATUSES: readonly PersonStatus[] = ['active', 'suspended', 'deprovisioned'];

/** A person as stored: the contract's person plus what the SCIM server needs to answer for them. */
export interface DirectoryRecord {
  person: DirectoryPerson;
  /** The SCIM resource's other attributes (name, emails, enterprise extension...), as last written. */
  attributes: Record<string, unknown>;
  /** Set when a SCIM client deleted the resource: the person stays (deprovisioned), SCIM answers 404. */
  deletedAt?: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** What a writer may set on a person besides the status (which only a signal changes). */
export type PersonDetails = Partial<Omit<DirectoryPerson, 'status' | 'statusChangedAt' | 'source'>>;

export class DirectoryConflictError extends KeyledgerError {
  constructor(message: string, details: Record<string, unknown>) {
    super('E_DIRECTORY_CONFLICT', message, { category: 'conflict', details });
  }
}

type Db = Kysely<OperationalSchema>;

interface StoredResource {
  attributes: Record<string, unknown>;
  deletedAt?: string;
}

export class DirectoryStore implements DirectoryUpdates {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #listeners = new Set<DepartureListener>();
  readonly #onListenerError: (error: unknown, person: DirectoryPerson) => void;

  constructor(options: {
    db: Db;
    clock: Clock;
    /** A listener that throws leaves its departure pending (redeliverDepartures); this hears why. */
    onListenerError?: (error: unknown, person: DirectoryPerson) => void;
  }) {
    this.#db = options.db;
    this.#clock = options.clock;
    this.#onListenerError = options.onListenerError ?? (() => undefined);
  }

  onDeparture(listener: DepartureListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async apply(
    signal: DirectorySignal,
    details: PersonDetails = {},
  ): Promise<{ person: DirectoryPerson; departed: boolean; duplicate: boolean }> {
    if (!PERSON_STATUSES.includes(signal.status)) {
      throw new KeyledgerError('E_DIRECTORY_SIGNAL', `unknown status "${signal.status}" in signal ${signal.signalId}`, {
        category: 'input',
      });
    }
    const email = normaliseEmail(signal.email);
    const at = new Date(signal.at);
    if (Number.isNaN(at.getTime())) {
      throw new KeyledgerError('E_DIRECTORY_SIGNAL', `signal ${signal.signalId} has no valid time ("${signal.at}")`, {
        category: 'input',
      });
    }
    const signalAt = at.toISOString();
    const now = this.#clock().toISOString();
    // Two deliveries of one signal (or two first signals for one person) racing on PostgreSQL: the loser's insert
    // breaks a unique constraint, and its retry finds the winner's rows.
    const outcome = await retryOnceOnUniqueViolation(() =>
      writeTransaction(this.#db, async (trx) => {
        const seen = await trx
          .selectFrom('directory_signals')
          .select('person_id')
          .where('signal_id', '=', signal.signalId)
          .executeTakeFirst();
        if (seen) {
          const row = await trx
            .selectFrom('directory_people')
            .selectAll()
            .where('id', '=', seen.person_id)
            .executeTakeFirst();
          return { row: row!, departed: false, duplicate: true };
        }
        let row = await lockPerson(trx, { column: 'email', value: email });
        if (!row) {
          row = await insertPerson(trx, {
            ...details,
            email,
            status: 'active',
            source: signal.source,
            now,
          });
        }
        const previous = row.status;
        const stale = row.status_changed_at !== null && signalAt < row.status_changed_at;
        const effect = stale ? 'stale' : previous === signal.status ? 'unchanged' : 'applied';
        const departed = effect === 'applied' && previous === 'active';
        const changes: Partial<DirectoryPeopleTable> = detailColumns(details);
        if (!stale)
          Object.assign(changes, { status: signal.status, status_changed_at: signalAt, source: signal.source });
        if (Object.keys(changes).length > 0) {
          row = await trx
            .updateTable('directory_people')
            .set({ ...changes, updated_at: now, version: row.version + 1 })
            .where('id', '=', row.id)
            .returningAll()
            .executeTakeFirstOrThrow();
        }
        await trx
          .insertInto('directory_signals')
          .values({
            signal_id: signal.signalId,
            source: signal.source,
            email,
            status: signal.status,
            at: signalAt,
            received_at: now,
            person_id: row.id,
            effect,
            departure_pending: departed ? 1 : 0,
          })
          .execute();
        return { row, departed, duplicate: false };
      }),
    );
    const person = personOf(outcome.row);
    if (outcome.departed) await this.#notify(person, { ...signal, email, at: signalAt });
    return { person, departed: outcome.departed, duplicate: outcome.duplicate };
  }

  /**
   * Runs the listeners for departures they have not all heard: a crash between recording and notifying, a
   * listener's error, or a departure recorded while nothing listened. Call it after registering the listeners.
   */
  async redeliverDepartures(): Promise<number> {
    const pending = await this.#db
      .selectFrom('directory_signals')
      .selectAll()
      .where('departure_pending', '=', 1)
      .orderBy('received_at')
      .execute();
    for (const row of pending) {
      const person = await this.find(row.person_id);
      if (!person) continue;
      await this.#notify(person, {
        signalId: row.signal_id,
        source: row.source,
        email: row.email,
        status: row.status as PersonStatus,
        at: row.at,
      });
    }
    return pending.length;
  }

  async #notify(person: DirectoryPerson, signal: DirectorySignal): Promise<void> {
    // Nobody listening yet (a signal heard before the offboarding workflow started): the departure stays pending
    // for redeliverDepartures, which the workflow calls once it listens.
    if (this.#listeners.size === 0) return;
    let failed = false;
    for (const listener of this.#listeners) {
      try {
        await listener(person, signal);
      } catch (error) {
        failed = true;
        this.#onListenerError(error, person);
      }
    }
    if (!failed) {
      await this.#db
        .updateTable('directory_signals')
        .set({ departure_pending: 0 })
        .where('signal_id', '=', signal.signalId)
        .execute();
    }
  }

  async find(idOrEmail: string): Promise<DirectoryPerson | undefined> {
    const record = await this.findRecord(idOrEmail);
    return record?.person;
  }

  /** By id, email (any case), userName (any case) or externalId. */
  async findRecord(idOrEmail: string): Promise<DirectoryRecord | undefined> {
    const key = idOrEmail.trim();
    const lower = key.toLowerCase();
    const row = await this.#db
      .selectFrom('directory_people')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb('id', '=', key),
          eb('email', '=', lower),
          eb('user_name_key', '=', lower),
          eb('external_id', '=', key),
        ]),
      )
      .orderBy('seq')
      .executeTakeFirst();
    return row ? recordOf(row) : undefined;
  }

  async list(filter: { status?: PersonStatus; team?: string } = {}): Promise<DirectoryPerson[]> {
    return (await this.listRecords(filter)).map((record) => record.person);
  }

  /**
   * A token that changes whenever any person is added or changed: every write inserts a row at version 1 or bumps
   * a version (people are never deleted, markDeleted bumps too), so count and version sum only grow. One scan of
   * two integer columns, far cheaper than `list`; src/directory/current-people.ts re-reads the people when it moves.
   */
  async revision(): Promise<string> {
    const row = await this.#db
      .selectFrom('directory_people')
      .select((eb) => [
        eb.fn.countAll<number | string>().as('people'),
        eb.fn.sum<number | string>('version').as('versions'),
      ])
      .executeTakeFirst();
    return `${row?.people ?? 0}:${row?.versions ?? 0}`;
  }

  /** Every person in creation order: SCIM pagination relies on a stable order. */
  async listRecords(filter: { status?: PersonStatus; team?: string } = {}): Promise<DirectoryRecord[]> {
    let query = this.#db.selectFrom('directory_people').selectAll();
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.team) query = query.where('team', '=', filter.team);
    const rows = await query.orderBy('seq').execute();
    return rows.map(recordOf);
  }

  /**
   * The people whose SCIM `userName` is `userName` (any case): those provisioned with it, and those no SCIM client
   * provisioned whose email it is (SCIM serves their email as their userName). The index path of a SCIM client's
   * most frequent request, `filter=userName eq "..."`.
   */
  async recordsByUserName(userName: string): Promise<DirectoryRecord[]> {
    const key = userName.trim().toLowerCase();
    const rows = await this.#db
      .selectFrom('directory_people')
      .selectAll()
      .where((eb) =>
        eb.or([eb('user_name_key', '=', key), eb.and([eb('user_name_key', 'is', null), eb('email', '=', key)])]),
      )
      .orderBy('seq')
      .execute();
    return rows.map(recordOf);
  }

  /** The signals heard about a person, oldest first (`keyledger people show`). */
  async signalsFor(personId: string): Promise<Array<DirectorySignal & { receivedAt: string; effect: string }>> {
    const rows = await this.#db
      .selectFrom('directory_signals')
      .selectAll()
      .where('person_id', '=', personId)
      .orderBy('at')
      .orderBy('received_at')
      .execute();
    return rows.map((row) => ({
      signalId: row.signal_id,
      source: row.source,
      email: row.email,
      status: row.status as PersonStatus,
      at: row.at,
      receivedAt: row.received_at,
      effect: row.effect,
    }));
  }

  /**
   * Creates a person (SCIM POST) with status `active`; a status other than active is then a signal (apply).
   * A taken email or userName is a DirectoryConflictError and writes nothing.
   */
  async create(
    details: PersonDetails & { email: string },
    attributes: Record<string, unknown>,
    source: string,
  ): Promise<DirectoryRecord> {
    const now = this.#clock().toISOString();
    return writeTransaction(this.#db, async (trx) => {
      await assertFree(trx, { email: normaliseEmail(details.email), userName: details.userName });
      const row = await insertPerson(
        trx,
        { ...details, email: details.email, status: 'active', source, now },
        attributes,
      );
      return recordOf(row);
    });
  }

  /**
   * Replaces a person's details and SCIM attributes (SCIM PUT, PATCH); the status is left to signals. `restore`
   * brings back a resource a SCIM client deleted (it provisions the person again).
   */
  async update(
    id: string,
    details: PersonDetails,
    attributes: Record<string, unknown>,
    options: { restore?: boolean } = {},
  ): Promise<DirectoryRecord> {
    const now = this.#clock().toISOString();
    return writeTransaction(this.#db, async (trx) => {
      const row = await lockPerson(trx, { column: 'id', value: id });
      if (!row) throw new KeyledgerError('E_DIRECTORY_NOT_FOUND', `no person with id ${id}`, { category: 'not-found' });
      await assertFree(
        trx,
        {
          email: details.email === undefined ? undefined : normaliseEmail(details.email),
          userName: details.userName,
        },
        id,
      );
      const { deletedAt, ...stored } = storedOf(row);
      const kept: StoredResource = { ...stored, attributes, ...(deletedAt && !options.restore ? { deletedAt } : {}) };
      const updated = await trx
        .updateTable('directory_people')
        .set({
          ...detailColumns(details),
          resource: JSON.stringify(kept),
          updated_at: now,
          version: row.version + 1,
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return recordOf(updated);
    });
  }

  /** Marks the SCIM resource deleted: SCIM stops answering for it; the person stays in the directory. */
  async markDeleted(id: string): Promise<void> {
    const now = this.#clock().toISOString();
    await writeTransaction(this.#db, async (trx) => {
      const row = await lockPerson(trx, { column: 'id', value: id });
      if (!row) return;
      const stored = storedOf(row);
      await trx
        .updateTable('directory_people')
        .set({
          resource: JSON.stringify({ ...stored, deletedAt: now } satisfies StoredResource),
          updated_at: now,
          version: row.version + 1,
        })
        .where('id', '=', id)
        .execute();
    });
  }
}

/** One DirectoryStore per database handle, so every surface of a process shares its departure listeners. */
const directories = new WeakMap<object, DirectoryStore>();

export function directoryFor(db: Db, clock: Clock): DirectoryStore {
  let found = directories.get(db);
  if (!found) {
    found = new DirectoryStore({ db, clock });
    directories.set(db, found);
  }
  return found;
}

async function retryOnceOnUniqueViolation<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE')
      return work();
    throw error;
  }
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

async function lockPerson(
  trx: Db,
  where: { column: 'id' | 'email'; value: string },
): Promise<DirectoryPeopleTable | undefined> {
  const query = trx.selectFrom('directory_people').selectAll().where(where.column, '=', where.value);
  // SQLite's writeTransaction already holds the write lock (BEGIN IMMEDIATE); PostgreSQL locks the row.
  return (dialectOf(trx) === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
}

async function assertFree(
  trx: Db,
  wanted: { email?: string | undefined; userName?: string | undefined },
  exceptId?: string,
): Promise<void> {
  const checks: Array<[string, 'email' | 'user_name_key', string | undefined]> = [
    ['email', 'email', wanted.email],
    ['userName', 'user_name_key', wanted.userName?.toLowerCase()],
  ];
  for (const [label, column, value] of checks) {
    if (value === undefined) continue;
    let query = trx.selectFrom('directory_people').select('id').where(column, '=', value);
    if (exceptId) query = query.where('id', '!=', exceptId);
    const taken = await query.executeTakeFirst();
    if (taken) {
      throw new DirectoryConflictError(`${label} "${value}" is already taken by another person`, {
        attribute: label,
        id: taken.id,
      });
    }
  }
}

async function insertPerson(
  trx: Db,
  input: PersonDetails & { email: string; status: PersonStatus; source: string; now: string },
  attributes: Record<string, unknown> = {},
): Promise<DirectoryPeopleTable> {
  const last = await trx
    .selectFrom('directory_people')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return trx
    .insertInto('directory_people')
    .values({
      id: input.id ?? randomUUID(),
      seq: Number(last?.seq ?? 0) + 1,
      email: normaliseEmail(input.email),
      user_name: input.userName ?? null,
      user_name_key: input.userName?.toLowerCase() ?? null,
      external_id: input.externalId ?? null,
      display_name: input.displayName ?? null,
      team: input.team ?? null,
      manager_email: input.managerEmail ? normaliseEmail(input.managerEmail) : null,
      status: input.status,
      status_changed_at: null,
      source: input.source,
      resource: JSON.stringify({ attributes } satisfies StoredResource),
      created_at: input.now,
      updated_at: input.now,
      version: 1,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The columns a details object sets; `undefined` leaves a column as it is, `null`-like empties are not given. */
function detailColumns(details: PersonDetails): Partial<DirectoryPeopleTable> {
  const columns: Partial<DirectoryPeopleTable> = {};
  if (details.email !== undefined) columns.email = normaliseEmail(details.email);
  if (details.userName !== undefined) {
    columns.user_name = details.userName;
    columns.user_name_key = details.userName.toLowerCase();
  }
  if (details.externalId !== undefined) columns.external_id = details.externalId;
  if (details.displayName !== undefined) columns.display_name = details.displayName;
  if (details.team !== undefined) columns.team = details.team;
  if (details.managerEmail !== undefined) columns.manager_email = normaliseEmail(details.managerEmail);
  return columns;
}

function storedOf(row: DirectoryPeopleTable): StoredResource {
  const parsed = JSON.parse(row.resource) as StoredResource;
  return { attributes: parsed.attributes ?? {}, ...(parsed.deletedAt ? { deletedAt: parsed.deletedAt } : {}) };
}

function personOf(row: DirectoryPeopleTable): DirectoryPerson {
  return {
    id: row.id,
    email: row.email,
    userName: row.user_name ?? undefined,
    externalId: row.external_id ?? undefined,
    displayName: row.display_name ?? undefined,
    team: row.team ?? undefined,
    managerEmail: row.manager_email ?? undefined,
    status: row.status,
    statusChangedAt: row.status_changed_at ?? undefined,
    source: row.source,
  };
}

function recordOf(row: DirectoryPeopleTable): DirectoryRecord {
  const stored = storedOf(row);
  return {
    person: personOf(row),
    attributes: stored.attributes,
    ...(stored.deletedAt ? { deletedAt: stored.deletedAt } : {}),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}
