import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScanEngine } from '../engine/scan-engine.js';
import { BUILTIN_RULE_FIXTURES, BUILTIN_RULES } from './builtin-rules.js';
import { splitLeadingName } from './compiled-rule.js';

describe('splitLeadingName', () => {
  it('leaves the name prefix out of the search, after any flags', () => {
    expect(splitLeadingName('[\\w.-]{0,40}?(?i:token)=(x)')).toEqual({ search: '(?i:token)=(x)', nameReach: 40 });
    expect(splitLeadingName('(?i)[\\w.-]{0,50}?(?:heroku)=(x)')).toEqual({
      search: '(?i)(?:heroku)=(x)',
      nameReach: 50,
    });
  });

  it('keeps patterns it cannot split safely', () => {
    expect(splitLeadingName('[\\w.-]{0,40}?a|b')).toEqual({ search: '[\\w.-]{0,40}?a|b', nameReach: 0 });
    expect(splitLeadingName('\\b(ghp_[0-9A-Za-z]{36})')).toEqual({ search: '\\b(ghp_[0-9A-Za-z]{36})', nameReach: 0 });
    expect(splitLeadingName('[\\w.-]{0,40}?')).toEqual({ search: '[\\w.-]{0,40}?', nameReach: 0 });
  });

  it('finds what the whole pattern finds, at the same places', () => {
    const named = BUILTIN_RULES.filter(
      (rule) => rule.regex !== undefined && splitLeadingName(rule.regex).nameReach > 0,
    );
    expect(named.length).toBeGreaterThan(50);
    const split = new ScanEngine({ rules: named, allowlists: [] }, { maxDecodeDepth: 0 });
    // The same rules with the prefix wrapped in a group, which the split does not recognise.
    const whole = new ScanEngine(
      {
        rules: named.map((rule) => ({
          ...rule,
          regex: (rule.regex as string).replace(/^\[\\w\.-\]\{0,(\d+)\}\?/, '(?:[\\w.-]{0,$1}?)'),
        })),
        allowlists: [],
      },
      { maxDecodeDepth: 0 },
    );
    const texts = BUILTIN_RULE_FIXTURES.flatMap((fixture) => [
      ...fixture.positives.map((p) => p.text),
      ...fixture.negatives.map((negative) => (typeof negative === 'string' ? negative : negative.text)),
    ]);
    const long = `const ${'a'.repeat(60)}_api_key = "${BUILTIN_RULE_FIXTURES.find((f) => f.ruleId === 'generic-api-key')?.positives[0]?.secret}";\n`;
    for (const text of [...texts, long]) {
      const data = Buffer.from(text);
      expect(split.scan({ data, path: 'a.txt' }), text).toEqual(whole.scan({ data, path: 'a.txt' }));
    }
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...texts, ' ', '\n', 'x.y-z_', 'token', '= "'), { maxLength: 8 }),
        (parts) => {
          const data = Buffer.from(parts.join(''));
          expect(split.scan({ data, path: 'a.txt' })).toEqual(whole.scan({ data, path: 'a.txt' }));
        },
      ),
      { numRuns: 200 },
    );
  });
});
