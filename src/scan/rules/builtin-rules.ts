// The built-in rule set, assembled from its homes: each family file in providers/ holds its providers' rules,
// each rule with its own true- and false-positive cases beside it (the shape of gitleaks' per-provider files).
// Rule ids follow gitleaks' where gitleaks has the same rule, so `[extend] disabledRules` and allowlists written
// for gitleaks keep working. Adding a rule: src/scan/rules/README.md.
import type { RuleFixture } from './canary-secrets.js';
import { AI_RULES } from './providers/ai-rules.js';
import { CLOUD_RULES } from './providers/cloud-rules.js';
import { DATABASE_RULES } from './providers/database-rules.js';
import { FINANCE_RULES } from './providers/finance-rules.js';
import { GENERIC_RULES } from './providers/generic-rules.js';
import { IDENTITY_RULES } from './providers/identity-rules.js';
import { KEYLEDGER_RULES } from './providers/keyledger-rules.js';
import { MESSAGING_RULES } from './providers/messaging-rules.js';
import { OBSERVABILITY_RULES } from './providers/observability-rules.js';
import { PACKAGE_REGISTRY_RULES } from './providers/package-registry-rules.js';
import { PAYMENT_RULES } from './providers/payment-rules.js';
import { SAAS_RULES } from './providers/saas-rules.js';
import { SOURCE_CONTROL_RULES } from './providers/source-control-rules.js';
import type { BuiltinRule } from './rule-builders.js';
import type { AllowlistDefinition, RuleDefinition } from './rule-definition.js';

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
  ...KEYLEDGER_RULES,
  ...GENERIC_RULES,
];

export const BUILTIN_RULES: RuleDefinition[] = BUILTIN_RULE_HOMES.map((home) => home.definition);

/** Each rule's true- and false-positive cases, read from the rule's home. */
export const BUILTIN_RULE_FIXTURES: RuleFixture[] = BUILTIN_RULE_HOMES.map((home) => home.fixture);

/** The ids of the built-in rules, for `disabledRules` validation and docs. */
export const BUILTIN_RULE_IDS = BUILTIN_RULES.map((definition) => definition.id);

/** A fresh copy of the built-in rule set (callers may extend and modify it). */
export function builtinRuleSet(): { rules: RuleDefinition[]; allowlists: AllowlistDefinition[] } {
  return { rules: structuredClone(BUILTIN_RULES), allowlists: [] };
}
