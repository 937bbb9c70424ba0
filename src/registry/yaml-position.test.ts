import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { SEED_EXAMPLE } from './test-support/registry-fixtures.js';
import { YamlLocator } from './yaml-position.js';
import { quickLocate } from './yaml-quick-locator.js';

const PATHS: PropertyKey[][] = [
  [],
  ['key_id'],
  ['owner_team'],
  ['missing'],
  ['scope'],
  ['scope', 'provider'],
  ['scope', 'permissions'],
  ['scope', 'permissions', 0],
  ['scope', 'permissions', 1],
  ['scope', 'permissions', 2],
  ['scope', 'permissions', 7],
  ['scope', 'nothing'],
  ['audit', 'rotation_frequency_days'],
  ['audit', 'last_audit'],
  ['consumed_by'],
  ['consumed_by', 0],
  ['consumed_by', 1],
  ['consumed_by', 3],
  ['storage', 'vault_path'],
  ['expiration', 'deeper'],
];

describe('YamlLocator', () => {
  it('finds fields of the article’s example', () => {
    const locator = new YamlLocator(SEED_EXAMPLE);
    expect(locator.locate(['key_id'])).toEqual({ line: 2, column: 1 });
    expect(locator.locate(['audit', 'rotation_frequency_days'])).toEqual({ line: 21, column: 3 });
    expect(locator.locate(['scope', 'permissions', 1])).toEqual({ line: 12, column: 34 });
    expect(locator.locate(['nope'])).toEqual({ line: 2, column: 1 });
  });

  it('the quick line reader agrees with the parser wherever it answers', () => {
    // Variants of a registry file: reindented blocks, comments, quoted keys, flow and block collections.
    const variant = fc.record({
      indent: fc.constantFrom(2, 4),
      comment: fc.boolean(),
      quoteKey: fc.boolean(),
      blockPermissions: fc.boolean(),
      permissionItems: fc.constantFrom(
        'a, b',
        '"s3:GetObject", admin',
        "'it''s', x, \"*\"",
        ' a ,b,  c ',
        'a, [b]',
        '',
      ),
      trailing: fc.constantFrom('', '  ', '  # note'),
      consumers: fc.constantFrom(
        '  - payments\n  - search',
        '- payments\n- search',
        '  - team: a\n    x: 1\n  - b',
        '  - "q"   # c\n  -   z',
      ),
      blank: fc.boolean(),
      drop: fc.constantFrom('', 'owner_team', 'scope', 'audit'),
    });
    fc.assert(
      fc.property(variant, (v) => {
        const pad = ' '.repeat(v.indent);
        const lines = [
          v.comment ? '# a registry entry' : '',
          'key_id: k-1',
          v.drop === 'owner_team' ? '' : `${v.quoteKey ? '"owner_team"' : 'owner_team'}: payments  # the team`,
          v.blank ? '' : '',
          v.drop === 'scope' ? '' : 'scope:',
          v.drop === 'scope' ? '' : `${pad}provider: stripe`,
          v.drop === 'scope'
            ? ''
            : v.blockPermissions
              ? `${pad}permissions:\n${pad}${pad}- a\n${pad}${pad}- b`
              : `${pad}permissions: [${v.permissionItems}]${v.trailing}`,
          v.comment ? `${pad}# trailing comment` : '',
          v.drop === 'audit' ? '' : `audit:\n${pad}rotation_frequency_days: 90\n${pad}'last_audit': 2026-04-01`,
          `consumed_by:${v.trailing}\n${v.consumers}`,
          'expiration: 2027-01-01',
        ].filter((line, index) => line !== '' || index === 3);
        const text = `${lines.join('\n')}\n`;
        expect(parseDocument(text).errors).toEqual([]);
        const locator = new YamlLocator(text);
        for (const path of PATHS) {
          const quick = quickLocate(text, path);
          if (quick) expect({ path, at: quick }).toEqual({ path, at: locator.locateWithParser(path) });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('answers list items itself, flow and block, without the parser', () => {
    expect(quickLocate(SEED_EXAMPLE, ['scope', 'permissions', 1])).toEqual({ line: 12, column: 34 });
    const text = 'key_id: k\nscope:\n  permissions: [a, "admin"]  # wide\nconsumed_by:\n  - payments\n  -   search\n';
    expect(quickLocate(text, ['scope', 'permissions', 1])).toEqual({ line: 3, column: 20 });
    expect(quickLocate(text, ['scope', 'permissions', 2])).toEqual({ line: 3, column: 3 });
    expect(quickLocate(text, ['consumed_by', 1])).toEqual({ line: 6, column: 7 });
    expect(quickLocate(text, ['consumed_by', 2])).toEqual({ line: 4, column: 1 });
  });

  it('leaves flow mappings, anchors and several documents to the parser', () => {
    expect(quickLocate('scope: {provider: x}\n', ['scope', 'provider'])).toBeUndefined();
    expect(quickLocate('---\nkey_id: a\n', ['key_id'])).toBeUndefined();
    expect(quickLocate('a:\n\tb: 1\n', ['a', 'b'])).toBeUndefined();
    expect(new YamlLocator('scope: {provider: x}\n').locate(['scope', 'provider'])).toEqual({ line: 1, column: 9 });
  });
});
