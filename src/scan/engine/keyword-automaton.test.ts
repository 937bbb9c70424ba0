import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeywordAutomaton } from './keyword-automaton.js';

function naiveHits(keywords: string[], text: string): string[] {
  const lower = text.toLowerCase();
  const hits: string[] = [];
  keywords.forEach((keyword, index) => {
    const needle = keyword.toLowerCase();
    for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, at + 1)) {
      hits.push(`${index}@${at + needle.length}`);
    }
  });
  return hits.sort();
}

describe('KeywordAutomaton', () => {
  it('finds overlapping keywords regardless of ASCII case', () => {
    const automaton = new KeywordAutomaton(['key', 'api_key', 'ghp_', 'akia']);
    const hits: string[] = [];
    automaton.scan(Buffer.from('API_KEY=1 ghp_x AKIAZZ'), (k, end) => hits.push(`${k}@${end}`));
    expect(hits.sort()).toEqual(['0@7', '1@7', '2@14', '3@20'].sort());
  });

  it('agrees with a naive search on random inputs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-dA-D_]{1,4}$/), { minLength: 1, maxLength: 6 }),
        fc.stringMatching(/^[a-dA-D_ ]{0,60}$/),
        (keywords, text) => {
          const hits: string[] = [];
          new KeywordAutomaton(keywords).scan(Buffer.from(text), (k, end) => hits.push(`${k}@${end}`));
          expect(hits.sort()).toEqual(naiveHits(keywords, text));
        },
      ),
      { numRuns: 300 },
    );
  });
});
