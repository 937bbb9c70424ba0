// What the team records add to a person's principal: the union of their login's claims and the records, for
// sessions only (an API token keeps its grant); a change made here is seen at the next request, one made by
// another replica once the short cache expires. Both engines.
import { expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { TeamRecords } from '../directory/team-records.js';
import { EventLog } from '../events/event-log.js';
import { fixedClock } from '../runtime/clock.js';
import type { Principal } from './access.js';
import { TeamAccess } from './team-access.js';

const session = (teams: string[]): Principal => ({
  kind: 'session',
  subject: 'dana@example.com',
  email: 'dana@example.com',
  roles: ['member'],
  teams,
  scopes: ['*'],
});

forEachBackend((backend) => {
  it('unites claims and records for people, leaves tokens alone, and sees changes at the next request', async () => {
    const store = await backend.open();
    const clock = fixedClock('2026-12-01T09:00:00Z');
    const events = new EventLog(store.db, clock);
    const records = new TeamRecords({ db: store.db, events, clock });
    // Another replica's records: its changes reach this process only through the store.
    const elsewhere = new TeamRecords({ db: store.db, events, clock });
    let now = 0;
    const access = new TeamAccess(records, { ttlMs: 5_000, now: () => now });

    // No record: the principal as the login made it.
    expect(await access.resolve(session(['payments']))).toEqual(session(['payments']));
    await records.create({ slug: 'search', members: [{ email: 'Dana@example.com', role: 'member' }] }, 'root');
    await records.grant('dana@example.com', 'security', 'root');
    // Changed here: effective at once (the cache was dropped), and added to what the claim said.
    expect(await access.resolve(session(['payments']))).toMatchObject({
      teams: ['payments', 'search'],
      roles: ['member', 'security'],
    });
    // A login without a team claim gets the records' teams.
    expect((await access.resolve(session([]))).teams).toEqual(['search']);
    // Tokens are not people: their grant stands.
    const token: Principal = { ...session(['ops']), kind: 'api-token', subject: 'ops-internal-api-token-1' };
    expect(await access.resolve(token)).toBe(token);

    // Changed by another replica: seen once the cache entry is older than its time to live.
    await elsewhere.removeMember('search', 'dana@example.com', 'root');
    now += 4_999;
    expect((await access.resolve(session([]))).teams).toEqual(['search']);
    now += 1;
    expect((await access.resolve(session([]))).teams).toEqual([]);
  });

  it('gives a lead what it gives a member: the team, and no role beyond the claim', async () => {
    // `lead` is descriptive (docs/server.md, "Teams and roles"): managing the team stays with admins.
    const store = await backend.open();
    const clock = fixedClock('2026-12-01T09:00:00Z');
    const records = new TeamRecords({ db: store.db, events: new EventLog(store.db, clock), clock });
    const access = new TeamAccess(records);
    await records.create(
      {
        slug: 'mobile',
        members: [
          { email: 'lee@example.com', role: 'lead' },
          { email: 'mo@example.com', role: 'member' },
        ],
      },
      'root',
    );
    const person = (email: string): Principal => ({ ...session([]), subject: email, email });
    const lead = await access.resolve(person('lee@example.com'));
    const member = await access.resolve(person('mo@example.com'));
    expect(lead).toMatchObject({ teams: ['mobile'], roles: ['member'] });
    expect({ teams: lead.teams, roles: lead.roles }).toEqual({ teams: member.teams, roles: member.roles });
  });
});
