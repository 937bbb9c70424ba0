// The filter grammar of RFC 7644 section 3.4.2.2 as identity providers use it, and the errors for what does not parse.
import { describe, expect, it } from 'vitest';
import { ScimError } from './scim-error.js';
import { matchesScimFilter, parseScimFilter } from './scim-filter.js';

const ada = {
  id: 'A1',
  externalId: 'Ext-1',
  userName: 'Ada@Example.com',
  displayName: 'Ada Lovelace',
  active: true,
  emails: [
    { type: 'home', value: 'ada@home.example' },
    { type: 'work', value: 'ada@example.com', primary: true },
  ],
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'platform', manager: { value: 'M9' } },
  meta: { lastModified: '2026-12-01T00:00:00Z' },
};

const matches = (filter: string) => matchesScimFilter(ada, parseScimFilter(filter));

describe('SCIM filters', () => {
  it.each([
    ['userName eq "ada@example.com"', true],
    ['USERNAME EQ "ADA@EXAMPLE.COM"', true],
    ['externalId eq "ext-1"', false],
    ['externalId eq "Ext-1"', true],
    ['emails[type eq "work"].value eq "ada@example.com"', true],
    ['emails[type eq "work"].value eq "ada@home.example"', false],
    ['emails[type eq "work" and primary eq true]', true],
    ['emails.value co "home"', true],
    ['displayName sw "ada" and name.familyName ew "lace"', true],
    ['not (active eq true)', false],
    ['(userName eq "x") or (displayName co "love")', true],
    ['title pr', false],
    ['active eq true and (userName eq "nobody" or name.givenName eq "ada")', true],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "platform"', true],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "M9"', true],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ada@example.com"', true],
    ['meta.lastModified gt "2026-11-30T00:00:00Z"', true],
    ['userName ne "ada@example.com"', false],
    ['userName eq "say \\"hi\\""', false],
  ])('%s -> %s', (filter, expected) => {
    expect(matches(filter)).toBe(expected);
  });

  it.each(['userName eq', 'userName like "a"', 'userName eq ada', '(userName eq "a"', 'userName eq "open', 'and'])(
    'refuses %s as invalidFilter',
    (filter) => {
      const error = (() => {
        try {
          parseScimFilter(filter);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(ScimError);
      expect((error as ScimError).scimType).toBe('invalidFilter');
    },
  );
});
