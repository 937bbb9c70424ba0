// PATCH operations as clients send them: op names in any case, path-less objects, nested and value paths,
// extension URNs; bad operations are typed SCIM errors and the input resource is never changed.
import { describe, expect, it } from 'vitest';
import { ScimError } from './scim-error.js';
import { applyScimPatch } from './scim-patch.js';

const base = () => ({
  userName: 'ada@example.com',
  active: true,
  name: { givenName: 'Ada' },
  emails: [{ type: 'work', value: 'ada@example.com' }],
  members: [{ value: 'p1' }, { value: 'p2' }],
});
const patch = (...operations: unknown[]) => ({
  schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
  Operations: operations,
});

describe('applyScimPatch', () => {
  it('applies a path-less replace, leaving the input as it was', () => {
    const input = base();
    const result = applyScimPatch(input, patch({ op: 'Replace', value: { active: false, 'name.familyName': 'L' } }));
    expect(result).toMatchObject({ active: false, name: { givenName: 'Ada', familyName: 'L' } });
    expect(input.active).toBe(true);
  });

  it('adds to and removes from multi-valued attributes, by value list and by filter', () => {
    let result = applyScimPatch(
      base(),
      patch({ op: 'add', path: 'members', value: [{ value: 'p3' }, { value: 'p1' }] }),
    );
    expect(result.members).toEqual([{ value: 'p1' }, { value: 'p2' }, { value: 'p3' }]);
    result = applyScimPatch(result, patch({ op: 'remove', path: 'members[value eq "p2"]' }));
    expect(result.members).toEqual([{ value: 'p1' }, { value: 'p3' }]);
    result = applyScimPatch(result, patch({ op: 'REMOVE', path: 'members', value: [{ value: 'p1' }] }));
    expect(result.members).toEqual([{ value: 'p3' }]);
    result = applyScimPatch(result, patch({ op: 'remove', path: 'members' }));
    expect(result.members).toBeUndefined();
  });

  it('creates the element a value path names when none matches', () => {
    const result = applyScimPatch(
      base(),
      patch({ op: 'add', path: 'phoneNumbers[type eq "work"].value', value: '+1' }),
    );
    expect(result.phoneNumbers).toEqual([{ type: 'work', value: '+1' }]);
  });

  it('writes extension attributes by URN path and by URN object', () => {
    const urn = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    let result = applyScimPatch(base(), patch({ op: 'add', path: `${urn}:department`, value: 'platform' }));
    result = applyScimPatch(result, patch({ op: 'replace', value: { [urn]: { manager: { value: 'M1' } } } }));
    expect(result[urn]).toEqual({ manager: { value: 'M1' } });
  });

  it.each([
    [{}, 'invalidSyntax'],
    [patch({ op: 'merge', path: 'active', value: false }), 'invalidSyntax'],
    [patch({ op: 'remove' }), 'noTarget'],
    [patch({ op: 'replace', value: 'x' }), 'invalidValue'],
    [patch({ op: 'replace', path: 'emails[type eq', value: 'x' }), 'invalidPath'],
    [patch({ op: 'replace', path: 'active' }), 'invalidValue'],
  ])('refuses %j with %s', (body, scimType) => {
    expect(() => applyScimPatch(base(), body)).toThrow(ScimError);
    try {
      applyScimPatch(base(), body);
    } catch (error) {
      expect((error as ScimError).scimType).toBe(scimType);
    }
  });
});
