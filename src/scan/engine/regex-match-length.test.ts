import fc from 'fast-check';
import RE2 from 're2';
import { describe, expect, it } from 'vitest';
import { BUILTIN_RULES } from '../rules/builtin-rules.js';
import { maxMatchBytes } from './regex-match-length.js';

describe('maxMatchBytes', () => {
  it('reads bounds off literals, classes, groups, alternations and counted repeats', () => {
    expect(maxMatchBytes('ghp_[0-9A-Za-z]{36}')).toBe(40);
    expect(maxMatchBytes('\\b(AKIA|ASIA)[A-Z2-7]{16}\\b')).toBe(20);
    expect(maxMatchBytes('a(?:bc|defg)?h')).toBe(6);
    expect(maxMatchBytes('x{2,5}y{3}')).toBe(8);
    expect(maxMatchBytes('^abc$')).toBe(3);
    expect(maxMatchBytes('(?P<name>ab)c')).toBe(3);
  });

  it('counts characters that may be multi-byte: negated classes, dot, \\S, case folding', () => {
    expect(maxMatchBytes('[^a]{2}')).toBe(8);
    expect(maxMatchBytes('.')).toBe(4);
    expect(maxMatchBytes('\\S\\s')).toBe(5);
    expect(maxMatchBytes('(?i)k')).toBe(3);
    expect(maxMatchBytes('(?i:k)1')).toBe(4);
    expect(maxMatchBytes('(?i)[a-z]')).toBe(3);
    expect(maxMatchBytes('é')).toBe(2);
  });

  it('says Infinity for unbounded repeats and for syntax it does not read', () => {
    expect(maxMatchBytes('a+')).toBe(Number.POSITIVE_INFINITY);
    expect(maxMatchBytes('a{3,}')).toBe(Number.POSITIVE_INFINITY);
    expect(maxMatchBytes('[\\s\\S]*?end')).toBe(Number.POSITIVE_INFINITY);
    expect(maxMatchBytes('\\Qa.b\\E')).toBe(Number.POSITIVE_INFINITY);
    expect(maxMatchBytes('(ab')).toBe(Number.POSITIVE_INFINITY);
  });

  it('is never below a real match, on random text with multi-byte characters', () => {
    const patterns = [
      '(?i)[\\w.-]{0,8}?(?:key|secret)[\\s\'"]{0,3}(?:=|:)[\\s\'"]{0,3}([a-z0-9]{4,10})(?:[^a-z0-9]|$)',
      '(?i)k[^x]{1,3}s',
      '\\b(ab|c\\S{2})\\b',
      '(?i:sk)[0-9a-f]{2,4}',
      '.{1,3}x',
    ];
    const alphabet = fc.constantFrom(
      'k',
      'K',
      '\u212a',
      's',
      '\u017f',
      'e',
      'y',
      '=',
      ' ',
      'x',
      'a',
      'b',
      'c',
      '0',
      '9',
      'é',
      '😀',
      '"',
      '\n',
    );
    fc.assert(
      fc.property(fc.constantFrom(...patterns), fc.array(alphabet, { maxLength: 40 }), (pattern, chars) => {
        const regex = new RE2(pattern, 'g');
        const bound = maxMatchBytes(pattern);
        const text = Buffer.from(chars.join(''));
        for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
          expect((m[0] as unknown as Buffer).length).toBeLessThanOrEqual(bound);
          if ((m[0] as unknown as Buffer).length === 0) regex.lastIndex += 1;
        }
      }),
      { numRuns: 400 },
    );
  });

  it('bounds most built-in rules (the unbounded ones fall back to the default region)', () => {
    const bounded = BUILTIN_RULES.filter(
      (rule) => rule.regex !== undefined && Number.isFinite(maxMatchBytes(rule.regex)),
    );
    expect(bounded.length / BUILTIN_RULES.length).toBeGreaterThan(0.8);
  });
});
