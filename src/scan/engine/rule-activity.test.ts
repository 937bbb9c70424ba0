import { describe, expect, it } from 'vitest';
import type { AllowlistDefinition, RuleDefinition, ScanRuleSet } from '../rules/rule-definition.js';
import { ScanEngine } from './scan-engine.js';

const allowlist = (fields: Partial<AllowlistDefinition>): AllowlistDefinition => ({
  condition: 'OR',
  commits: [],
  paths: [],
  regexes: [],
  regexTarget: 'secret',
  stopwords: [],
  ...fields,
});

const rule = (fields: Partial<RuleDefinition> & { id: string }): RuleDefinition => ({
  description: fields.id,
  regex: 'tok_[a-z0-9]{12}',
  keywords: ['tok_'],
  tags: [],
  allowlists: [],
  ...fields,
});

const commit = (sha: string) => ({
  sha,
  author: 'a',
  email: 'a@example.com',
  date: '2026-01-01T00:00:00Z',
  message: 'm',
});
const text = Buffer.from('x = tok_abcdef123456\n');

function rulesFound(engine: ScanEngine, path: string, sha?: string): string[] {
  return engine
    .scan({ data: text, path, ...(sha ? { commit: commit(sha) } : {}) })
    .map((finding) => finding.ruleId)
    .sort();
}

describe('rule activity per fragment', () => {
  it('decides path and path-allowlist rules per path, the same on every fragment of a history', () => {
    const ruleSet: ScanRuleSet = {
      rules: [
        rule({ id: 'everywhere' }),
        rule({ id: 'only-env', path: '\\.env$' }),
        rule({ id: 'not-in-tests', allowlists: [allowlist({ paths: ['^test/'] })] }),
      ],
      allowlists: [],
    };
    const engine = new ScanEngine(ruleSet);
    // The same paths come back in later commits: the decisions made for the first must hold for the rest.
    for (const sha of ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40)]) {
      expect(rulesFound(engine, 'app/.env', sha)).toEqual(['everywhere', 'not-in-tests', 'only-env']);
      expect(rulesFound(engine, 'test/fixture.js', sha)).toEqual(['everywhere']);
      expect(rulesFound(engine, 'app/main.js', sha)).toEqual(['everywhere', 'not-in-tests']);
    }
    expect(rulesFound(engine, 'test/.env')).toEqual(['everywhere', 'only-env']);
  });

  it('decides again for each commit when an allowlist names commits', () => {
    const allowed = 'd'.repeat(40);
    const ruleSet: ScanRuleSet = {
      rules: [rule({ id: 'not-in-d', allowlists: [allowlist({ commits: [allowed] })] })],
      allowlists: [],
    };
    const engine = new ScanEngine(ruleSet);
    expect(rulesFound(engine, 'a.js', 'e'.repeat(40))).toEqual(['not-in-d']);
    expect(rulesFound(engine, 'a.js', allowed)).toEqual([]);
    expect(rulesFound(engine, 'a.js', 'f'.repeat(40))).toEqual(['not-in-d']);
  });
});
