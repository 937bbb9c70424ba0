// The directory on both engines: signals deduplicated by id, older signals never overriding newer ones, listeners
// called once per departure (and again after a failure until they finish), SCIM's details and conflicts.
import { beforeEach, describe, expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { fixedClock } from '../runtime/clock.js';
import { DirectoryConflictError, DirectoryStore } from './directory-store.js';
import type { DirectoryPerson, DirectorySignal } from './identity-source.js';

const signal = (over: Partial<DirectorySignal> = {}): DirectorySignal => ({
  signalId: 'okta:evt-1',
  source: 'okta',
  email: 'Leaver@Example.com',
  status: 'deprovisioned',
  at: '2026-12-01T10:00:00.000Z',
  ...over,
});

forEachBackend((backend) => {
  describe('DirectoryStore', () => {
    let directory: DirectoryStore;
    let departures: Array<[DirectoryPerson, DirectorySignal]>;

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
      departures = [];
      directory.onDeparture(async (person, heard) => {
        departures.push([person, heard]);
      });
    });

    it('records a departure once, and a duplicate signal changes nothing', async () => {
      const first = await directory.apply(signal(), { team: 'payments', displayName: 'Lee Ver' });
      expect(first).toMatchObject({ departed: true, duplicate: false });
      expect(first.person).toMatchObject({
        email: 'leaver@example.com',
        status: 'deprovisioned',
        statusChangedAt: '2026-12-01T10:00:00.000Z',
        source: 'okta',
        team: 'payments',
      });
      const again = await directory.apply(signal());
      expect(again).toMatchObject({ departed: false, duplicate: true });
      expect(departures).toHaveLength(1);
      expect(departures[0]![1].email).toBe('leaver@example.com');
      expect(await directory.signalsFor(first.person.id)).toHaveLength(1);
    });

    it('keeps an older signal in the history without letting it override the newer status', async () => {
      await directory.apply(signal({ signalId: 'a', status: 'active', at: '2026-12-01T09:00:00Z' }));
      await directory.apply(signal({ signalId: 'b', status: 'deprovisioned', at: '2026-12-03T09:00:00Z' }));
      // Reactivation sent on the 2nd arrives after the deprovisioning of the 3rd: stale.
      const late = await directory.apply(signal({ signalId: 'c', status: 'active', at: '2026-12-02T09:00:00Z' }));
      expect(late.person.status).toBe('deprovisioned');
      expect(late.departed).toBe(false);
      const history = await directory.signalsFor(late.person.id);
      expect(history.map((row) => [row.signalId, row.effect])).toEqual([
        ['a', 'unchanged'],
        ['c', 'stale'],
        ['b', 'applied'],
      ]);
      expect(departures).toHaveLength(1);
    });

    it('calls listeners only when the person leaves active: suspended then deprovisioned is one departure', async () => {
      await directory.apply(signal({ signalId: 's', status: 'suspended', at: '2026-12-01T09:00:00Z' }));
      const later = await directory.apply(signal({ signalId: 'd', at: '2026-12-02T09:00:00Z' }));
      expect(later.person.status).toBe('deprovisioned');
      expect(departures.map(([, heard]) => heard.signalId)).toEqual(['s']);
    });

    it('leaves a departure pending when a listener fails, and redelivers it until the listeners finish', async () => {
      const store = await backend.sharedStore();
      const errors: unknown[] = [];
      const failing = new DirectoryStore({
        db: store.db,
        clock: fixedClock('2026-12-07T12:00:00.000Z'),
        onListenerError: (error) => errors.push(error),
      });
      let attempts = 0;
      failing.onDeparture(async () => {
        attempts += 1;
        if (attempts === 1) throw new Error('offboarding store down');
      });
      await failing.apply(signal());
      expect(errors).toHaveLength(1);
      expect(await failing.redeliverDepartures()).toBe(1);
      expect(attempts).toBe(2);
      expect(await failing.redeliverDepartures()).toBe(0);
    });

    it('finds people by id, email, userName and externalId, any case; lists by status and team in a stable order', async () => {
      const created = await directory.create(
        { email: 'Ada@Example.com', userName: 'Ada.L', externalId: '00uABC', team: 'platform' },
        { name: { givenName: 'Ada' } },
        'scim',
      );
      await directory.apply(signal({ email: 'bob@example.com' }), { team: 'platform' });
      for (const key of [created.person.id, 'ADA@example.com', 'ada.l', '00uABC'])
        expect((await directory.find(key))?.email).toBe('ada@example.com');
      expect((await directory.list({ team: 'platform' })).map((person) => person.email)).toEqual([
        'ada@example.com',
        'bob@example.com',
      ]);
      expect((await directory.list({ status: 'deprovisioned' })).map((person) => person.email)).toEqual([
        'bob@example.com',
      ]);
      expect((await directory.findRecord('ada@example.com'))?.attributes).toEqual({ name: { givenName: 'Ada' } });
    });

    it('refuses a second person with the same userName (any case) or email, writing nothing', async () => {
      await directory.create({ email: 'ada@example.com', userName: 'ada' }, {}, 'scim');
      await expect(directory.create({ email: 'other@example.com', userName: 'ADA' }, {}, 'scim')).rejects.toThrow(
        DirectoryConflictError,
      );
      await expect(directory.create({ email: 'ADA@example.com' }, {}, 'scim')).rejects.toThrow(DirectoryConflictError);
      expect(await directory.list()).toHaveLength(1);
    });

    it('keeps a departure heard while nothing listens pending until a listener is registered', async () => {
      const store = await backend.sharedStore();
      const quiet = new DirectoryStore({ db: store.db, clock: fixedClock('2026-12-07T12:00:00.000Z') });
      await quiet.apply(signal());
      const heard: string[] = [];
      quiet.onDeparture(async (person) => {
        heard.push(person.email);
      });
      expect(await quiet.redeliverDepartures()).toBe(1);
      expect(await quiet.redeliverDepartures()).toBe(0);
      expect(heard).toEqual(['leaver@example.com']);
    });

    it('handles the same signal delivered twice at once: one departure', async () => {
      const results = await Promise.all([directory.apply(signal()), directory.apply(signal())]);
      expect(results.filter((result) => result.duplicate)).toHaveLength(1);
      expect(departures).toHaveLength(1);
    });
  });
});
