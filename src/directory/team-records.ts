// Admin-managed team records in the operational store (migration 0019): a team by the slug registry entries name
// in `owner_team`, with a display name, a description, a shared contact (an on-call alias, a manager's email) and
// members who are each a `member` or a `lead`; beside them, the people an admin granted the `security` or `admin`
// role. Every change commits with its event (who, what, when) in one transaction. The server reads `accessOf` to
// give a signed-in person the teams and roles these records name (src/server/team-access.ts, docs/server.md).
import type { Kysely } from 'kysely';
import type { OperationalSchema, RoleGrantsTable, TeamMembersTable, TeamsTable } from '../db/operational-schema.js';
import { writeTransaction } from '../db/write-transaction.js';
import { KeyledgerError, NotFoundError } from '../errors/keyledger-error.js';
import type { Clock } from '../runtime/clock.js';

/**
 * A person's role inside a team. `lead` is descriptive (whom to ask about the team's keys): its access is a
 * member's, managing the team stays with admins (docs/server.md, "Teams and roles"; src/server/team-access.ts).
 */
export const TEAM_MEMBER_ROLES = ['member', 'lead'] as const;
export type TeamMemberRole = (typeof TEAM_MEMBER_ROLES)[number];

/** The organisation-wide roles an admin grants a person (src/server/access.ts defines what each may do). */
export const GRANTED_ROLES = ['security', 'admin'] as const;
export type GrantedRole = (typeof GRANTED_ROLES)[number];

/** What `owner_team` values look like: no spaces or slashes, so a slug is safe in a URL path and a file name. */
export const TEAM_SLUG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export interface TeamMember {
  email: string;
  role: TeamMemberRole;
  addedAt: string;
  addedBy: string;
}

export interface TeamRecord {
  slug: string;
  displayName: string;
  description?: string;
  contact?: string;
  /** Sorted by email. */
  members: TeamMember[];
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
  /** Bumped by every change to the team or its members. */
  version: number;
}

export interface RoleGrant {
  email: string;
  role: GrantedRole;
  grantedAt: string;
  grantedBy: string;
}

export interface NewTeam {
  slug: string;
  /** Default: the slug. */
  displayName?: string | undefined;
  description?: string | undefined;
  contact?: string | undefined;
  members?: ReadonlyArray<{ email: string; role: TeamMemberRole }> | undefined;
}

/** A field set to `null` is cleared; an absent one is left as it is. */
export interface TeamChanges {
  displayName?: string | undefined;
  description?: string | null | undefined;
  contact?: string | null | undefined;
}

/** The teams and roles the records give one person. */
export interface RecordedAccess {
  teams: string[];
  roles: GrantedRole[];
}

export class TeamRecordError extends KeyledgerError {}

/** One change as the event log records it: its type (`team.created`, `role.granted`...), who, and what. */
export interface TeamChangeEvent {
  type: string;
  actor: string;
  data: Record<string, unknown>;
}

/**
 * Where changes are recorded, inside the transaction that makes them: the event log's `appendWithin`
 * (src/events/event-log.ts), named here by shape because the event log's folder sits above this one.
 */
export interface TeamChangeLog {
  appendWithin(trx: Kysely<OperationalSchema>, events: readonly TeamChangeEvent[]): Promise<unknown>;
}

type Db = Kysely<OperationalSchema>;

export class TeamRecords {
  readonly #db: Db;
  readonly #events: TeamChangeLog;
  readonly #clock: Clock;
  readonly #listeners = new Set<() => void>();

  constructor(options: { db: Db; events: TeamChangeLog; clock: Clock }) {
    this.#db = options.db;
    this.#events = options.events;
    this.#clock = options.clock;
  }

  /** Called after every committed change (a cache of who is in which team drops what it held). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Every team record, sorted by slug, with its members. */
  async list(): Promise<TeamRecord[]> {
    const [teams, members] = await Promise.all([
      this.#db.selectFrom('teams').selectAll().orderBy('slug').execute(),
      this.#db.selectFrom('team_members').selectAll().orderBy('team').orderBy('email').execute(),
    ]);
    const byTeam = new Map<string, TeamMembersTable[]>();
    for (const member of members) {
      const list = byTeam.get(member.team) ?? [];
      list.push(member);
      byTeam.set(member.team, list);
    }
    return teams.map((row) => recordOf(row, byTeam.get(row.slug) ?? []));
  }

  async get(slug: string): Promise<TeamRecord | undefined> {
    return readTeam(this.#db, slug);
  }

  /** Creates a team record (adopting a team the registry or the directory already names is the same call). */
  async create(input: NewTeam, actor: string): Promise<TeamRecord> {
    assertSlug(input.slug);
    const now = this.#clock().toISOString();
    const members = uniqueMembers(input.members ?? []);
    const record = await this.#write(async (trx) => {
      const existing = await trx.selectFrom('teams').select('slug').where('slug', '=', input.slug).executeTakeFirst();
      if (existing)
        throw new TeamRecordError('E_TEAM_EXISTS', `team "${input.slug}" already has a record: change it instead`, {
          category: 'conflict',
        });
      await trx
        .insertInto('teams')
        .values({
          slug: input.slug,
          display_name: textOr(input.displayName) ?? input.slug,
          description: textOr(input.description) ?? null,
          contact: textOr(input.contact) ?? null,
          created_at: now,
          created_by: actor,
          updated_at: now,
          updated_by: actor,
          version: 1,
        })
        .execute();
      if (members.length > 0)
        await trx
          .insertInto('team_members')
          .values(members.map((member) => ({ team: input.slug, ...member, added_at: now, added_by: actor })))
          .execute();
      const created = (await readTeam(trx, input.slug))!;
      return {
        result: created,
        events: [
          {
            type: 'team.created',
            actor,
            data: {
              team: created.slug,
              display_name: created.displayName,
              ...(created.description ? { description: created.description } : {}),
              ...(created.contact ? { contact: created.contact } : {}),
              members: created.members.map(({ email, role }) => ({ email, role })),
            },
          },
        ],
      };
    });
    return record;
  }

  /**
   * Changes a team's name, description or contact. With `expectedVersion`, a record changed since it was read is
   * refused (E_TEAM_CHANGED), so two admins editing at once do not overwrite each other unseen.
   */
  async update(
    slug: string,
    changes: TeamChanges,
    actor: string,
    options: { expectedVersion?: number } = {},
  ): Promise<TeamRecord> {
    return this.#write(async (trx) => {
      const before = await requireTeam(trx, slug, options.expectedVersion);
      const next = {
        display_name:
          changes.displayName === undefined ? before.displayName : (textOr(changes.displayName) ?? before.slug),
        description:
          changes.description === undefined ? (before.description ?? null) : (textOr(changes.description) ?? null),
        contact: changes.contact === undefined ? (before.contact ?? null) : (textOr(changes.contact) ?? null),
      };
      const changed: Record<string, { from: string | null; to: string | null }> = {};
      if (next.display_name !== before.displayName)
        changed.display_name = { from: before.displayName, to: next.display_name };
      if (next.description !== (before.description ?? null))
        changed.description = { from: before.description ?? null, to: next.description };
      if (next.contact !== (before.contact ?? null))
        changed.contact = { from: before.contact ?? null, to: next.contact };
      if (Object.keys(changed).length === 0) return { result: before, events: [] };
      await bump(trx, slug, actor, this.#clock().toISOString(), next);
      return {
        result: (await readTeam(trx, slug))!,
        events: [{ type: 'team.updated', actor, data: { team: slug, changed } }],
      };
    });
  }

  /** Deletes a team record and its memberships; the caller checks that no registry entry still names it. */
  async delete(slug: string, actor: string, options: { expectedVersion?: number } = {}): Promise<void> {
    await this.#write(async (trx) => {
      const before = await requireTeam(trx, slug, options.expectedVersion);
      await trx.deleteFrom('team_members').where('team', '=', slug).execute();
      await trx.deleteFrom('teams').where('slug', '=', slug).execute();
      return {
        result: undefined,
        events: [
          {
            type: 'team.deleted',
            actor,
            data: { team: slug, display_name: before.displayName, members: before.members.length },
          },
        ],
      };
    });
  }

  /** Adds a person to a team, or changes their role in it; `changed` is false when it was already so. */
  async putMember(
    slug: string,
    email: string,
    role: TeamMemberRole,
    actor: string,
  ): Promise<{ record: TeamRecord; created: boolean; changed: boolean }> {
    assertRole(role, TEAM_MEMBER_ROLES, 'E_TEAM_MEMBER_ROLE');
    const address = normalEmail(email);
    return this.#write<{ record: TeamRecord; created: boolean; changed: boolean }>(async (trx) => {
      const before = await requireTeam(trx, slug);
      const current = before.members.find((member) => member.email === address);
      if (current?.role === role) return { result: { record: before, created: false, changed: false }, events: [] };
      const now = this.#clock().toISOString();
      if (current)
        await trx
          .updateTable('team_members')
          .set({ role })
          .where('team', '=', slug)
          .where('email', '=', address)
          .execute();
      else
        await trx
          .insertInto('team_members')
          .values({ team: slug, email: address, role, added_at: now, added_by: actor })
          .execute();
      await bump(trx, slug, actor, now);
      return {
        result: { record: (await readTeam(trx, slug))!, created: !current, changed: true },
        events: [
          {
            type: current ? 'team.member_changed' : 'team.member_added',
            actor,
            data: { team: slug, email: address, role, ...(current ? { previous_role: current.role } : {}) },
          },
        ],
      };
    });
  }

  /** Takes a person out of a team; false when they were not in it. */
  async removeMember(slug: string, email: string, actor: string): Promise<boolean> {
    const address = normalEmail(email);
    return this.#write(async (trx) => {
      const before = await requireTeam(trx, slug);
      const current = before.members.find((member) => member.email === address);
      if (!current) return { result: false, events: [] };
      await trx.deleteFrom('team_members').where('team', '=', slug).where('email', '=', address).execute();
      await bump(trx, slug, actor, this.#clock().toISOString());
      return {
        result: true,
        events: [{ type: 'team.member_removed', actor, data: { team: slug, email: address, role: current.role } }],
      };
    });
  }

  /** Every role grant, sorted by email then role. */
  async grants(): Promise<RoleGrant[]> {
    const rows = await this.#db.selectFrom('role_grants').selectAll().orderBy('email').orderBy('role').execute();
    return rows.map(grantOf);
  }

  /** Grants a person a role; `created` is false when they already held it. */
  async grant(email: string, role: GrantedRole, actor: string): Promise<{ grant: RoleGrant; created: boolean }> {
    assertRole(role, GRANTED_ROLES, 'E_ROLE_UNKNOWN');
    const address = normalEmail(email);
    return this.#write<{ grant: RoleGrant; created: boolean }>(async (trx) => {
      const existing = await trx
        .selectFrom('role_grants')
        .selectAll()
        .where('email', '=', address)
        .where('role', '=', role)
        .executeTakeFirst();
      if (existing) return { result: { grant: grantOf(existing), created: false }, events: [] };
      const row = { email: address, role, granted_at: this.#clock().toISOString(), granted_by: actor };
      await trx.insertInto('role_grants').values(row).execute();
      return {
        result: { grant: grantOf(row), created: true },
        events: [{ type: 'role.granted', actor, data: { email: address, role } }],
      };
    });
  }

  /** Takes a role back; false when the person did not hold it. */
  async revoke(email: string, role: GrantedRole, actor: string): Promise<boolean> {
    assertRole(role, GRANTED_ROLES, 'E_ROLE_UNKNOWN');
    const address = normalEmail(email);
    return this.#write(async (trx) => {
      const result = await trx
        .deleteFrom('role_grants')
        .where('email', '=', address)
        .where('role', '=', role)
        .executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) return { result: false, events: [] };
      return { result: true, events: [{ type: 'role.revoked', actor, data: { email: address, role } }] };
    });
  }

  /** The teams (sorted) and granted roles the records give a person's email. */
  async accessOf(email: string): Promise<RecordedAccess> {
    const address = normalEmail(email);
    const [teams, roles] = await Promise.all([
      this.#db.selectFrom('team_members').select('team').where('email', '=', address).orderBy('team').execute(),
      this.#db.selectFrom('role_grants').select('role').where('email', '=', address).orderBy('role').execute(),
    ]);
    return {
      teams: teams.map((row) => row.team),
      roles: roles.map((row) => row.role).filter((role): role is GrantedRole => isGrantedRole(role)),
    };
  }

  /** One transaction for the change and its events; listeners hear of it once it committed. */
  async #write<T>(work: (trx: Db) => Promise<{ result: T; events: TeamChangeEvent[] }>): Promise<T> {
    const { result, events } = await writeTransaction(this.#db, async (trx) => {
      const done = await work(trx);
      if (done.events.length > 0) await this.#events.appendWithin(trx, done.events);
      return done;
    });
    if (events.length > 0) for (const listener of this.#listeners) listener();
    return result;
  }
}

export function isGrantedRole(role: string): role is GrantedRole {
  return (GRANTED_ROLES as readonly string[]).includes(role);
}

function assertSlug(slug: string): void {
  if (!TEAM_SLUG_PATTERN.test(slug))
    throw new TeamRecordError(
      'E_TEAM_SLUG',
      `"${slug}" is not a team slug: letters, digits, '.', '_' or '-', starting with a letter or digit, at most 100`,
      { category: 'input' },
    );
}

function assertRole(role: string, allowed: readonly string[], code: string): void {
  if (!allowed.includes(role))
    throw new TeamRecordError(code, `role must be one of ${allowed.join(', ')}; got "${role}"`, { category: 'input' });
}

function normalEmail(email: string): string {
  const address = email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+$/.test(address))
    throw new TeamRecordError('E_TEAM_MEMBER_EMAIL', `"${email}" is not an email address`, { category: 'input' });
  return address;
}

function textOr(value: string | null | undefined): string | undefined {
  const text = value?.trim();
  return text ? text : undefined;
}

function uniqueMembers(
  members: ReadonlyArray<{ email: string; role: TeamMemberRole }>,
): Array<{ email: string; role: TeamMemberRole }> {
  const byEmail = new Map<string, TeamMemberRole>();
  for (const member of members) {
    assertRole(member.role, TEAM_MEMBER_ROLES, 'E_TEAM_MEMBER_ROLE');
    byEmail.set(normalEmail(member.email), member.role);
  }
  return [...byEmail].map(([email, role]) => ({ email, role }));
}

async function readTeam(db: Db, slug: string): Promise<TeamRecord | undefined> {
  const row = await db.selectFrom('teams').selectAll().where('slug', '=', slug).executeTakeFirst();
  if (!row) return undefined;
  const members = await db.selectFrom('team_members').selectAll().where('team', '=', slug).orderBy('email').execute();
  return recordOf(row, members);
}

async function requireTeam(db: Db, slug: string, expectedVersion?: number): Promise<TeamRecord> {
  const record = await readTeam(db, slug);
  if (!record) throw new NotFoundError('E_TEAM_NOT_FOUND', `no team record "${slug}"`);
  if (expectedVersion !== undefined && record.version !== expectedVersion)
    throw new TeamRecordError('E_TEAM_CHANGED', `team "${slug}" changed since it was read: read it again`, {
      category: 'conflict',
      details: { version: record.version },
    });
  return record;
}

async function bump(
  trx: Db,
  slug: string,
  actor: string,
  now: string,
  fields: Partial<Pick<TeamsTable, 'display_name' | 'description' | 'contact'>> = {},
): Promise<void> {
  const row = await trx.selectFrom('teams').select('version').where('slug', '=', slug).executeTakeFirstOrThrow();
  await trx
    .updateTable('teams')
    .set({ ...fields, updated_at: now, updated_by: actor, version: row.version + 1 })
    .where('slug', '=', slug)
    .execute();
}

function recordOf(row: TeamsTable, members: readonly TeamMembersTable[]): TeamRecord {
  return {
    slug: row.slug,
    displayName: row.display_name,
    ...(row.description ? { description: row.description } : {}),
    ...(row.contact ? { contact: row.contact } : {}),
    members: members.map((member) => ({
      email: member.email,
      role: member.role as TeamMemberRole,
      addedAt: member.added_at,
      addedBy: member.added_by,
    })),
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
    version: Number(row.version),
  };
}

function grantOf(row: RoleGrantsTable): RoleGrant {
  return { email: row.email, role: row.role as GrantedRole, grantedAt: row.granted_at, grantedBy: row.granted_by };
}
