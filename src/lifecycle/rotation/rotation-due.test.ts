// Due detection: schedule, expiry, an owner who left (a key missed at offboarding), and events —
// a leak found, a manual request — counted only when newer than the last rotation; the most urgent trigger wins.
import { expect, it } from 'vitest';
import { parsePeopleDirectory } from '../../directory/people-directory.js';
import { analyzeEntryText } from '../../registry/entry-analysis.js';
import type { KeyEntry } from '../../registry/key-entry-schema.js';
import { seedExampleWith } from '../../registry/test-support/registry-fixtures.js';
import { findDueKeys } from './rotation-due.js';

const entry = (keyId: string, replacements: [string, string][] = []) => ({
  file: `keys/${keyId}.yaml`,
  entry: analyzeEntryText(`keys/${keyId}.yaml`, seedExampleWith(keyId, replacements)).entry as KeyEntry,
});

it('finds keys due on schedule, near expiry, after their owner left, and on leak or request events', () => {
  const people = parsePeopleDirectory(
    'email,name,team,status,left_at\nalice@example.com,Alice,payments,active,\nbob@example.com,Bob,payments,left,2026-06-01\n',
    'people.csv',
  );
  const entries = [
    entry('fresh'),
    entry('scheduled', [['rotation_frequency_days: 365', 'rotation_frequency_days: 30']]),
    entry('expiring', [['expiration: 2027-04-01T10:00:00Z', 'expiration: 2026-07-01T10:00:00Z']]),
    entry('orphaned', [['owner_individual: alice@example.com', 'owner_individual: bob@example.com']]),
    entry('leaked'),
    entry('leaked-long-ago'),
    entry('revoked', [
      ['rotation_frequency_days: 365', 'rotation_frequency_days: 30'],
      ['key_id: revoked', 'key_id: revoked\nstatus: revoked'],
    ]),
  ];
  const requests = new Map([
    ['leaked', { trigger: 'leak' as const, at: new Date('2026-06-10T00:00:00Z'), reason: 'leak found' }],
    [
      'leaked-long-ago',
      { trigger: 'leak' as const, at: new Date('2026-03-01T00:00:00Z'), reason: 'leak found before the last rotation' },
    ],
  ]);
  const due = findDueKeys(entries, { now: new Date('2026-06-15T00:00:00Z'), expiryWarningDays: 30, people, requests });
  expect(due.map((key) => [key.keyId, key.trigger])).toEqual([
    ['leaked', 'leak'],
    ['orphaned', 'owner-left'],
    ['expiring', 'expiry'],
    ['scheduled', 'schedule'],
  ]);
});
