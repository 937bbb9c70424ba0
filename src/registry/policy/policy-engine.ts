// Applies the policy rules to an entry with the severities the config sets, and compiles the config's patterns
// once (RE2: a user's pattern cannot backtrack catastrophically).
import RE2 from 're2';
import type { PeopleDirectory } from '../../directory/people-directory.js';
import { ConfigError } from '../../errors/keyledger-error.js';
import type { KeyEntry } from '../key-entry-schema.js';
import type { PolicyConfig } from '../registry-config.js';
import { POLICY_RULES, type PolicyContext, type PolicyRule } from './policy-rules.js';

export interface PolicyViolation {
  rule: string;
  severity: 'error' | 'warning';
  message: string;
  path: PropertyKey[];
}

/** Rules that are not per-entry but are configured the same way. */
export const REGISTRY_WIDE_RULES = ['duplicate-key-id', 'unknown-field', 'storage-exists'] as const;

export function knownRuleIds(): string[] {
  return [...POLICY_RULES.map((rule) => rule.id), ...REGISTRY_WIDE_RULES];
}

export function compilePolicy(policy: PolicyConfig, now: Date, people?: PeopleDirectory): PolicyContext {
  for (const id of Object.keys(policy.rules)) {
    if (!knownRuleIds().includes(id)) {
      throw new ConfigError(`policy.rules: unknown rule "${id}"; known rules: ${knownRuleIds().join(', ')}`);
    }
  }
  const forbidden = policy.forbidden_permissions.map((pattern, index) =>
    compilePattern(pattern, `policy.forbidden_permissions[${index}]`),
  );
  const verdicts = new Map<string, boolean>();
  const isForbiddenPermission = (permission: string): boolean => {
    let verdict = verdicts.get(permission);
    if (verdict === undefined) {
      verdict = forbidden.some((pattern) => pattern.test(permission));
      if (verdicts.size < 100_000) verdicts.set(permission, verdict);
    }
    return verdict;
  };
  return {
    policy,
    now,
    ...(people ? { people } : {}),
    isForbiddenPermission,
    ...(policy.key_id_pattern ? { keyIdPattern: compilePattern(policy.key_id_pattern, 'policy.key_id_pattern') } : {}),
  };
}

function compilePattern(pattern: string, field: string): RE2 {
  try {
    return new RE2(pattern, 'u');
  } catch (error) {
    throw new ConfigError(`${field}: invalid pattern ${JSON.stringify(pattern)}: ${(error as Error).message}`, {
      position: { file: 'keyledger.config.yaml', field },
    });
  }
}

export function severityOf(
  ruleId: string,
  fallback: 'error' | 'warning',
  policy: PolicyConfig,
): 'error' | 'warning' | 'off' {
  return policy.rules[ruleId] ?? fallback;
}

export function checkEntry(
  entry: KeyEntry,
  context: PolicyContext,
  rules: readonly PolicyRule[] = POLICY_RULES,
): PolicyViolation[] {
  const violations: PolicyViolation[] = [];
  for (const rule of rules) {
    const severity = severityOf(rule.id, rule.defaultSeverity, context.policy);
    if (severity === 'off') continue;
    for (const finding of rule.check(entry, context)) {
      violations.push({ rule: rule.id, severity, message: finding.message, path: finding.path });
    }
  }
  return violations;
}
