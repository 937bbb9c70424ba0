// Team records and role grants on both engines: create (and refuse a second), change with a version check, members
// added, re-roled and removed, grants given and taken back, each change one event in the same transaction, and
// what the records give a person's email.
import { expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { EventLog } from '../events/event-log.js';
import { fixedClock } from '../runtime/clock.js';
import { TeamRecords } from './team-records.js';

forEachBackend((backend) => {
  async function records() {
    const store = await backend.open();
    const clock = fixedClock('2026-12-01T09:00:00Z');
    const events = new EventLog(store.db, clock);
    const teams = new TeamRecords({ db: store.db, events, clock });
    return { store, clock, events, teams };
  }

  it('creates a team with members, refuses a second record of it, and records each change as an event', async () => {
    const { clock, events, teams } = await records();
    let changes = 0;
    teams.onChange(() => changes++);
    const created = await teams.create(
      {
        slug: 'payments',
        displayName: 'Payments',
        contact: 'payments-oncall@example.com',
        members: [
          { email: 'Alice@Example.com', role: 'lead' },
          { email: 'bob@example.com', role: 'member' },
        ],
      },
      'root@example.com',
    );
    expect(created).toMatchObject({
      slug: 'payments',
      displayName: 'Payments',
      contact: 'payments-oncall@example.com',
      version: 1,
      createdBy: 'root@example.com',
      members: [
        { email: 'alice@example.com', role: 'lead', addedBy: 'root@example.com' },
        { email: 'bob@example.com', role: 'member' },
      ],
    });
    await expect(teams.create({ slug: 'payments' }, 'root@example.com')).rejects.toMatchObject({
      code: 'E_TEAM_EXISTS',
      category: 'conflict',
    });
    await expect(teams.create({ slug: 'no spaces/here' }, 'root@example.com')).rejects.toMatchObject({
      code: 'E_TEAM_SLUG',
    });

    clock.advance(60_000);
    const updated = await teams.update(
      'payments',
      { description: 'Card payments', contact: null },
      'root@example.com',
      { expectedVersion: 1 },
    );
    expect(updated).toMatchObject({ description: 'Card payments', version: 2, updatedAt: '2026-12-01T09:01:00.000Z' });
    expect(updated.contact).toBeUndefined();
    await expect(teams.update('payments', { displayName: 'P' }, 'x', { expectedVersion: 1 })).rejects.toMatchObject({
      code: 'E_TEAM_CHANGED',
    });
    // Nothing changed, nothing recorded.
    expect((await teams.update('payments', { description: 'Card payments' }, 'x')).version).toBe(2);

    expect(await teams.putMember('payments', 'bob@example.com', 'member', 'root@example.com')).toMatchObject({
      created: false,
      changed: false,
    });
    expect(await teams.putMember('payments', 'bob@example.com', 'lead', 'root@example.com')).toMatchObject({
      created: false,
      changed: true,
      record: { version: 3 },
    });
    expect(await teams.putMember('payments', 'carol@example.com', 'member', 'root@example.com')).toMatchObject({
      created: true,
      record: { version: 4 },
    });
    await expect(teams.putMember('payments', 'not-an-email', 'member', 'x')).rejects.toMatchObject({
      code: 'E_TEAM_MEMBER_EMAIL',
    });
    await expect(teams.putMember('nowhere', 'carol@example.com', 'member', 'x')).rejects.toMatchObject({
      code: 'E_TEAM_NOT_FOUND',
    });
    expect(await teams.removeMember('payments', 'ALICE@example.com', 'root@example.com')).toBe(true);
    expect(await teams.removeMember('payments', 'alice@example.com', 'root@example.com')).toBe(false);

    const logged = await events.list({ order: 'asc', limit: 100 });
    expect(logged.map((event) => [event.type, event.actor, event.data])).toEqual([
      [
        'team.created',
        'root@example.com',
        {
          team: 'payments',
          display_name: 'Payments',
          contact: 'payments-oncall@example.com',
          members: [
            { email: 'alice@example.com', role: 'lead' },
            { email: 'bob@example.com', role: 'member' },
          ],
        },
      ],
      [
        'team.updated',
        'root@example.com',
        {
          team: 'payments',
          changed: {
            description: { from: null, to: 'Card payments' },
            contact: { from: 'payments-oncall@example.com', to: null },
          },
        },
      ],
      [
        'team.member_changed',
        'root@example.com',
        { team: 'payments', email: 'bob@example.com', role: 'lead', previous_role: 'member' },
      ],
      ['team.member_added', 'root@example.com', { team: 'payments', email: 'carol@example.com', role: 'member' }],
      ['team.member_removed', 'root@example.com', { team: 'payments', email: 'alice@example.com', role: 'lead' }],
    ]);
    expect(logged.every((event) => event.at.startsWith('2026-12-01T09:0'))).toBe(true);
    // Listeners hear committed changes only (not the refused or unchanged calls).
    expect(changes).toBe(logged.length);
  });

  it('grants and revokes roles, and gives a person the teams and roles the records name', async () => {
    const { events, teams } = await records();
    await teams.create({ slug: 'search', members: [{ email: 'dana@example.com', role: 'member' }] }, 'root');
    await teams.create({ slug: 'payments', members: [{ email: 'dana@example.com', role: 'lead' }] }, 'root');
    expect(await teams.accessOf('Dana@Example.com')).toEqual({ teams: ['payments', 'search'], roles: [] });
    expect((await teams.grant('dana@example.com', 'security', 'root')).created).toBe(true);
    expect((await teams.grant('dana@example.com', 'security', 'root')).created).toBe(false);
    await teams.grant('erin@example.com', 'admin', 'root');
    await expect(teams.grant('erin@example.com', 'member' as 'admin', 'root')).rejects.toMatchObject({
      code: 'E_ROLE_UNKNOWN',
    });
    expect(await teams.accessOf('dana@example.com')).toEqual({ teams: ['payments', 'search'], roles: ['security'] });
    expect((await teams.grants()).map((grant) => [grant.email, grant.role, grant.grantedBy])).toEqual([
      ['dana@example.com', 'security', 'root'],
      ['erin@example.com', 'admin', 'root'],
    ]);
    expect(await teams.revoke('dana@example.com', 'security', 'root')).toBe(true);
    expect(await teams.revoke('dana@example.com', 'security', 'root')).toBe(false);
    expect(await teams.accessOf('dana@example.com')).toEqual({ teams: ['payments', 'search'], roles: [] });
    expect(await teams.accessOf('nobody@example.com')).toEqual({ teams: [], roles: [] });

    await teams.delete('search', 'root', { expectedVersion: 1 });
    expect(await teams.get('search')).toBeUndefined();
    expect(await teams.accessOf('dana@example.com')).toEqual({ teams: ['payments'], roles: [] });
    await expect(teams.delete('search', 'root')).rejects.toMatchObject({ code: 'E_TEAM_NOT_FOUND' });
    expect((await teams.list()).map((team) => team.slug)).toEqual(['payments']);
    const types = (await events.list({ order: 'asc', limit: 100 })).map((event) => event.type);
    expect(types).toEqual([
      'team.created',
      'team.created',
      'role.granted',
      'role.granted',
      'role.revoked',
      'team.deleted',
    ]);
  });

  it('writes nothing, not even the event, when a change fails half way', async () => {
    const { store, events, teams } = await records();
    // A membership row left behind (no team) makes the new team's member insert fail after the team row was
    // written: the transaction takes back the team row and its event together.
    await store.db
      .insertInto('team_members')
      .values({ team: 'ops', email: 'a@example.com', role: 'member', added_at: 'x', added_by: 'x' })
      .execute();
    await expect(
      teams.create({ slug: 'ops', members: [{ email: 'a@example.com', role: 'member' }] }, 'root'),
    ).rejects.toThrow();
    expect(await store.db.selectFrom('teams').selectAll().execute()).toEqual([]);
    expect(await events.list({ limit: 10 })).toEqual([]);
    // Refused before any write: a role outside member and lead.
    await expect(
      teams.create({ slug: 'ops', members: [{ email: 'b@example.com', role: 'owner' as 'lead' }] }, 'root'),
    ).rejects.toMatchObject({ code: 'E_TEAM_MEMBER_ROLE' });
  });
});
