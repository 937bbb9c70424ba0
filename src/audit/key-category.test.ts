// A key's category from what is observable: the shared-across-teams class, the account holding it, the directory.
import { describe, expect, it } from 'vitest';
import { parsePeopleDirectory } from '../directory/people-directory.js';
import { keyCategorizer } from './key-category.js';

const PEOPLE = parsePeopleDirectory(
  'email,name,team,status,left_at\nann.lee@x.example,Ann,payments,active,\nbob.ray@x.example,Bob,growth,left,2026-06-30\n',
  'people.csv',
);
const categoryOf = keyCategorizer(PEOPLE);

describe('keyCategorizer', () => {
  it('calls a key several teams consume shared, whoever holds it', () => {
    expect(categoryOf({ classes: ['shared-across-teams'], account: 'ann.lee' })).toBe('shared-between-teams');
  });

  it.each(['ann.lee', 'ann.lee-2', 'bob.ray', 'ann-lee@acme-prod.iam.gserviceaccount.com', 'user:104'])(
    'calls a key held by a person (%j) personal, leavers included',
    (account) => {
      expect(categoryOf({ classes: [], account })).toBe('personal-key');
    },
  );

  it.each(['svc-payments-3', 'payments-svc-4@acme-prod.iam.gserviceaccount.com', 'project:12', 'acme/api', undefined])(
    'calls a key held by anything else (%j) a service key',
    (account) => {
      expect(categoryOf({ classes: ['unused-30-days'], account })).toBe('service-key');
    },
  );

  it('reads the holder a listing names before the account: a token acts as its owner, a person or a machine user', () => {
    expect(categoryOf({ classes: [], account: 'acme', holder: 'ann.lee' })).toBe('personal-key');
    expect(categoryOf({ classes: [], account: 'acme', holder: 'acme-payments-bot' })).toBe('service-key');
  });

  it('knows no person without a directory', () => {
    expect(keyCategorizer(undefined)({ classes: [], account: 'ann.lee' })).toBe('service-key');
  });
});
