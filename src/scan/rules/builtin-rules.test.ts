import { describe, expect, it } from 'vitest';
import { ScanEngine } from '../engine/scan-engine.js';
import { BUILTIN_RULE_FIXTURES, BUILTIN_RULE_IDS, builtinRuleSet } from './builtin-rules.js';
import { FIXTURE_PATH } from './canary-secrets.js';

const engine = new ScanEngine(builtinRuleSet(), { maxDecodeDepth: 0 });

function scanText(text: string, path = FIXTURE_PATH) {
  return engine.scan({ data: Buffer.from(text), path });
}

describe('built-in rules', () => {
  it('every rule has fixtures, and every fixture names a rule', () => {
    const covered = new Set(BUILTIN_RULE_FIXTURES.map((fixture) => fixture.ruleId));
    expect([...covered].sort()).toEqual([...BUILTIN_RULE_IDS].sort());
    for (const fixture of BUILTIN_RULE_FIXTURES) {
      expect(fixture.positives.length, fixture.ruleId).toBeGreaterThan(0);
      expect(fixture.negatives.length, fixture.ruleId).toBeGreaterThan(0);
    }
  });

  for (const fixture of BUILTIN_RULE_FIXTURES) {
    describe(fixture.ruleId, () => {
      fixture.positives.forEach((positive, i) => {
        it(`finds true positive ${i + 1}`, () => {
          const secrets = scanText(positive.text, positive.path)
            .filter((finding) => finding.ruleId === fixture.ruleId)
            .map((finding) => finding.secret);
          expect(secrets).toEqual([positive.secret]);
        });
      });
      fixture.negatives.forEach((negative, i) => {
        it(`ignores false positive ${i + 1}`, () => {
          const { text, path } = typeof negative === 'string' ? { text: negative, path: FIXTURE_PATH } : negative;
          expect(scanText(text, path).filter((finding) => finding.ruleId === fixture.ruleId)).toEqual([]);
        });
      });
    });
  }

  it('reports no finding at all for a checksum look-alike, not even a generic one', () => {
    const fixture = BUILTIN_RULE_FIXTURES.find((f) => f.ruleId === 'github-pat');
    expect(scanText(fixture?.negatives[0] as string)).toEqual([]);
  });

  it('reports a positive at its line and columns', () => {
    const fixture = BUILTIN_RULE_FIXTURES.find((f) => f.ruleId === 'github-pat');
    const positive = fixture?.positives[0];
    const [finding] = scanText(`line one\n\n  ${positive?.text}`).filter((f) => f.ruleId === 'github-pat');
    expect(finding).toMatchObject({ startLine: 3, endLine: 3, startColumn: 16, endColumn: 15 + 40 });
  });
});
