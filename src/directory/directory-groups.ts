// SCIM groups in the directory (src/idp/scim/ serves them): a name, the identity provider's id, and members who
// are people of the directory. Groups are kept for the identity providers' sake (Okta and Entra push them); a
// group's membership does not change anyone's status.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import { writeTransaction } from '../db/write-transaction.js';
import { KeyledgerError } from '../errors/keyledger-error.js';
import type { Clock } from '../runtime/clock.js';

export interface DirectoryGroup {
  id: string;
  displayName: string;
  externalId?: string;
  /** Person ids, in the order they were added. */
  members: string[];
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface GroupInput {
  displayName: string;
  externalId?: string | undefined;
  members: string[];
}

export class DirectoryGroups {
  readonly #db: Kysely<OperationalSchema>;
  readonly #clock: Clock;

  constructor(options: { db: Kysely<OperationalSchema>; clock: Clock }) {
    this.#db = options.db;
    this.#clock = options.clock;
  }

  /** Every group, in creation order, with its members. */
  async list(): Promise<DirectoryGroup[]> {
    const rows = await this.#db
      .selectFrom('directory_groups')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    const members = await this.#db.selectFrom('directory_group_members').selectAll().execute();
    const byGroup = new Map<string, string[]>();
    for (const member of members) {
      const list = byGroup.get(member.group_id) ?? [];
      list.push(member.person_id);
      byGroup.set(member.group_id, list);
    }
    return rows.map((row) => groupOf(row, byGroup.get(row.id) ?? []));
  }

  async get(id: string): Promise<DirectoryGroup | undefined> {
    const row = await this.#db.selectFrom('directory_groups').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const members = await this.#db
      .selectFrom('directory_group_members')
      .select('person_id')
      .where('group_id', '=', id)
      .execute();
    return groupOf(
      row,
      members.map((member) => member.person_id),
    );
  }

  /** Creates a group; every member must be a person of the directory (else nothing is written). */
  async create(input: GroupInput): Promise<DirectoryGroup> {
    const now = this.#clock().toISOString();
    const id = randomUUID();
    await writeTransaction(this.#db, async (trx) => {
      await assertPeople(trx, input.members);
      await trx
        .insertInto('directory_groups')
        .values({
          id,
          display_name: input.displayName,
          external_id: input.externalId ?? null,
          created_at: now,
          updated_at: now,
          version: 1,
        })
        .execute();
      await insertMembers(trx, id, input.members);
    });
    return (await this.get(id))!;
  }

  /** Replaces a group's name, external id and members (SCIM PUT, and PATCH once applied). */
  async replace(id: string, input: GroupInput): Promise<DirectoryGroup> {
    const now = this.#clock().toISOString();
    await writeTransaction(this.#db, async (trx) => {
      const row = await trx.selectFrom('directory_groups').select('version').where('id', '=', id).executeTakeFirst();
      if (!row) throw new KeyledgerError('E_DIRECTORY_NOT_FOUND', `no group with id ${id}`, { category: 'not-found' });
      await assertPeople(trx, input.members);
      await trx
        .updateTable('directory_groups')
        .set({
          display_name: input.displayName,
          external_id: input.externalId ?? null,
          updated_at: now,
          version: row.version + 1,
        })
        .where('id', '=', id)
        .execute();
      await trx.deleteFrom('directory_group_members').where('group_id', '=', id).execute();
      await insertMembers(trx, id, input.members);
    });
    return (await this.get(id))!;
  }

  /** Deletes a group and its memberships; true when it existed. */
  async delete(id: string): Promise<boolean> {
    return writeTransaction(this.#db, async (trx) => {
      await trx.deleteFrom('directory_group_members').where('group_id', '=', id).execute();
      const result = await trx.deleteFrom('directory_groups').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }
}

export class UnknownMemberError extends KeyledgerError {
  constructor(ids: string[]) {
    super('E_DIRECTORY_UNKNOWN_MEMBER', `no person with id ${ids.join(', ')} in the directory`, {
      category: 'input',
      details: { ids },
    });
  }
}

async function assertPeople(trx: Kysely<OperationalSchema>, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const found = await trx.selectFrom('directory_people').select('id').where('id', 'in', ids).execute();
  const known = new Set(found.map((row) => row.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0) throw new UnknownMemberError(unknown);
}

async function insertMembers(trx: Kysely<OperationalSchema>, groupId: string, members: string[]): Promise<void> {
  const unique = [...new Set(members)];
  if (unique.length === 0) return;
  await trx
    .insertInto('directory_group_members')
    .values(unique.map((person_id) => ({ group_id: groupId, person_id })))
    .execute();
}

function groupOf(
  row: {
    id: string;
    display_name: string;
    external_id: string | null;
    created_at: string;
    updated_at: string;
    version: number;
  },
  members: string[],
): DirectoryGroup {
  return {
    id: row.id,
    displayName: row.display_name,
    ...(row.external_id ? { externalId: row.external_id } : {}),
    members,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}
