// The built-in rule set, assembled from its homes: each family file in providers/ holds its providers' rules,
// each rule with its own true- and false-positive cases beside it (the shape of gitleaks' per-provider files).
// Rule ids follow gitleaks' where gitleaks has the same rule, so `[extend] disabledRules` and allowlists written
// for gitleaks keep working. Adding a rule: src/scan/rules/README.md.
import type { RuleFixture } from './canary-secrets.js';
import { AI_RULES } from './providers/ai-rules.js';
import { CLOUD_RULES } from './providers/cloud-rules.js';
import { CONFIG_FILE_RULES } from './providers/config-file-rules.js';
import { DATABASE_RULES } from './providers/database-rules.js';
import { FINANCE_RULES } from './providers/finance-rules.js';
import { GENERIC_RULES } from './providers/generic-rules.js';
import { IDENTITY_RULES } from './providers/identity-rules.js';
import { INFRASTRUCTURE_RULES } from './providers/infrastructure-rules.js';
import { KEYLEDGER_RULES } from './providers/keyledger-rules.js';
import { MESSAGING_RULES } from './providers/messaging-rules.js';
import { OBSERVABILITY_RULES } from './providers/observability-rules.js';
import { PACKAGE_REGISTRY_RULES } from './providers/package-registry-rules.js';
import { PAYMENT_RULES } from './providers/payment-rules.js';
import { SAAS_RULES } from './providers/saas-rules.js';
import { SOURCE_CONTROL_RULES } from './providers/source-control-rules.js';
import type { BuiltinRule } from './rule-builders.js';
import { type AllowlistDefinition, allowlistDefinition, type RuleDefinition } from './rule-definition.js';

/** Every built-in rule with its cases. The generic forms come last (a specific rule's finding wins). */
export const BUILTIN_RULE_HOMES: readonly BuiltinRule[] = [
  ...CLOUD_RULES,
  ...SOURCE_CONTROL_RULES,
  ...PACKAGE_REGISTRY_RULES,
  ...AI_RULES,
  ...PAYMENT_RULES,
  ...FINANCE_RULES,
  ...MESSAGING_RULES,
  ...OBSERVABILITY_RULES,
  ...SAAS_RULES,
  ...IDENTITY_RULES,
  ...DATABASE_RULES,
  ...INFRASTRUCTURE_RULES,
  ...KEYLEDGER_RULES,
  ...CONFIG_FILE_RULES,
  ...GENERIC_RULES,
];

/**
 * The prefixes that name a token's provider (`figd_`, `glagent-`, `pubkey-`...), from the prefixed-token rules'
 * keywords. A value starting with one is that rule's to judge: when it does not report it (too short, a bad
 * checksum), the generic rule must not report it either.
 */
function providerPrefixes(homes: readonly BuiltinRule[]): string[] {
  const prefixes = new Set<string>();
  for (const { definition } of homes) {
    if (definition.regex === undefined || !/^(?:\(\?i\))?\\b\((?!\?)/.test(definition.regex)) continue;
    for (const keyword of definition.keywords)
      if (/^[a-z0-9][a-z0-9_.~/-]{2,}$/.test(keyword) && /[_.~/-]/.test(keyword)) prefixes.add(keyword);
  }
  return [...prefixes].sort();
}

const escapeRe2 = (literal: string) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The generic rules, with the provider-prefix allowlist added (see providerPrefixes). */
function withProviderPrefixesAllowed(home: BuiltinRule, prefixes: string[]): RuleDefinition {
  if (!home.definition.id.startsWith('generic-')) return home.definition;
  const allowlist = allowlistDefinition({
    description: "values that start with a provider's token prefix (that provider's rule judges them)",
    regexes: [`(?i)^(?:${prefixes.map(escapeRe2).join('|')})`],
  });
  return { ...home.definition, allowlists: [...home.definition.allowlists, allowlist] };
}

const PROVIDER_PREFIXES = providerPrefixes(BUILTIN_RULE_HOMES);

/**
 * Documentation values, for every rule: a secret holding a run of the alphabet or the digits in order, or of x,
 * is a placeholder (`AIzaSyabcdefghijklmnopqrstuvwxyz1234567`, `sk_test_12345678...`, `xxxxxxxx`), never issued.
 */
const DOCUMENTATION_VALUES = allowlistDefinition({
  description: 'documentation placeholders: alphabet or digit runs, x runs',
  regexes: ['(?i)abcdefgh|bcdefghi|cdefghij|ijklmnop|qrstuvwx|12345678|23456789|98765432|xxxxxxxx'],
});

export const BUILTIN_RULES: RuleDefinition[] = BUILTIN_RULE_HOMES.map((home) => {
  const definition = withProviderPrefixesAllowed(home, PROVIDER_PREFIXES);
  if (definition.regex === undefined) return definition;
  return { ...definition, allowlists: [...definition.allowlists, DOCUMENTATION_VALUES] };
});

/** Each rule's true- and false-positive cases, read from the rule's home. */
export const BUILTIN_RULE_FIXTURES: RuleFixture[] = BUILTIN_RULE_HOMES.map((home) => home.fixture);

/** The ids of the built-in rules, for `disabledRules` validation and docs. */
export const BUILTIN_RULE_IDS = BUILTIN_RULES.map((definition) => definition.id);

/** A fresh copy of the built-in rule set (callers may extend and modify it). */
export function builtinRuleSet(): { rules: RuleDefinition[]; allowlists: AllowlistDefinition[] } {
  return { rules: structuredClone(BUILTIN_RULES), allowlists: [] };
}
