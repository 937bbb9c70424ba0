// The people owners are judged by follow the directory while a process runs: a departure recorded after the first
// read is seen on the next one, and an unchanged directory is not listed again. Both engines.
import { beforeEach, describe, expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { fixedClock } from '../runtime/clock.js';
import { CurrentPeople } from './current-people.js';
import { DirectoryStore } from './directory-store.js';
import { PeopleDirectory } from './people-directory.js';

const file = new PeopleDirectory([
  { email: 'alice@example.com', team: 'payments', status: 'active' },
  { email: 'bob@example.com', team: 'search', status: 'active' },
]);

forEachBackend((backend) => {
  describe('CurrentPeople', () => {
    let directory: DirectoryStore;
    let lists: number;
    let people: CurrentPeople;

    beforeEach(async () => {
      const store = await backend.sharedStore();
      for (const table of [
        'directory_signals',
        'directory_group_members',
        'directory_groups',
        'directory_people',
      ] as const)
        await store.db.deleteFrom(table).execute();
      directory = new DirectoryStore({ db: store.db, clock: fixedClock('2026-12-07T12:00:00.000Z') });
      lists = 0;
      people = new CurrentPeople(file, {
        revision: () => directory.revision(),
        list: () => {
          lists += 1;
          return directory.list();
        },
      });
    });

    it('is the file alone while the directory is empty', async () => {
      expect((await people.get())?.find('alice@example.com')?.status).toBe('active');
    });

    it('sees a departure recorded after the first read, and lists again only when the directory changed', async () => {
      await directory.apply({
        signalId: 'scim:1',
        source: 'scim',
        email: 'bob@example.com',
        status: 'active',
        at: '2026-12-01T00:00:00.000Z',
      });
      expect((await people.get())?.find('alice@example.com')?.status).toBe('active');
      await people.get();
      expect(lists).toBe(1);

      // Another writer of the same store (a SCIM request on another replica) deprovisions Alice.
      const otherReplica = new DirectoryStore({
        db: (await backend.sharedStore()).db,
        clock: fixedClock('2026-12-07T12:00:00.000Z'),
      });
      await otherReplica.apply({
        signalId: 'scim:2',
        source: 'scim',
        email: 'alice@example.com',
        status: 'deprovisioned',
        at: '2026-12-06T09:00:00.000Z',
      });
      const now = await people.get();
      expect(now?.find('alice@example.com')).toMatchObject({ status: 'left', left_at: '2026-12-06T09:00:00.000Z' });
      expect(now?.find('bob@example.com')?.team).toBe('search');
      expect(lists).toBe(2);

      // A change that is not a status (a new team), in the same millisecond, moves the revision too.
      await directory.update((await directory.find('bob@example.com'))!.id, { team: 'platform' }, {});
      expect((await people.get())?.find('bob@example.com')?.team).toBe('platform');
      expect(lists).toBe(3);
    });
  });
});
