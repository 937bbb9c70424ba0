// Owners resolve against the directory: a signal's departure shows through the people file's stale `active`.
import { describe, expect, it } from 'vitest';
import type { DirectoryPerson } from './identity-source.js';
import { PeopleDirectory } from './people-directory.js';
import { mergedPeople, peopleWithSignals } from './people-with-signals.js';

const file = new PeopleDirectory([
  { email: 'ada@example.com', name: 'Ada', team: 'platform', status: 'active' },
  { email: 'bob@example.com', name: 'Bob', team: 'payments', status: 'left', left_at: '2026-10-01' },
]);
const heard: DirectoryPerson[] = [
  {
    id: 'p1',
    email: 'ada@example.com',
    status: 'deprovisioned',
    statusChangedAt: '2026-12-07T08:33:21.000Z',
    source: 'okta',
  },
  { id: 'p2', email: 'cyd@example.com', team: 'data', status: 'suspended', source: 'okta' },
];

describe('peopleWithSignals', () => {
  it('lays the directory over the file: a deprovisioned person is left, dated; the file fills what it lacks', () => {
    const people = peopleWithSignals(file, heard);
    expect(people.find('ADA@example.com')).toEqual({
      email: 'ada@example.com',
      name: 'Ada',
      team: 'platform',
      status: 'left',
      left_at: '2026-12-07T08:33:21.000Z',
    });
    expect(people.find('bob@example.com')?.status).toBe('left');
    expect(people.find('cyd@example.com')).toMatchObject({ status: 'suspended', team: 'data' });
    expect(people.teams()).toEqual(new Set(['platform', 'payments', 'data']));
  });

  it('works without a people file', () => {
    expect(peopleWithSignals(undefined, heard).size).toBe(2);
  });
});

describe('mergedPeople', () => {
  it('lists the directory, then the file people it has not heard of as hr-file', () => {
    expect(mergedPeople(file, heard).map((person) => [person.email, person.status, person.source])).toEqual([
      ['ada@example.com', 'deprovisioned', 'okta'],
      ['cyd@example.com', 'suspended', 'okta'],
      ['bob@example.com', 'deprovisioned', 'hr-file'],
    ]);
  });
});
