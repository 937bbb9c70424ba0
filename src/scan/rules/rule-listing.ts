// The rules in force, as `keyledger scan rules` lists them: each rule's id, description, keywords, provider and
// whether a finding of it can be verified live: through its provider's adapter (src/scan/ownership/) or its
// declarative verify block (src/scan/verify/).
import { declaredOrigin } from '../verify/verify-request.js';
import type { ScanRuleSet } from './rule-definition.js';

export interface RuleListing {
  id: string;
  description: string;
  keywords: string[];
  /** The provider (provider table name) whose identify-self call proves a secret live, if any. */
  provider: string | null;
  /** Whether `scan --verify` can check a finding of this rule live. */
  verifies: boolean;
  /** How: through the provider's adapter, the rule's declarative verify block, or not at all. */
  verifiesBy: 'adapter' | 'verify-block' | null;
  /** The host a verify block sends the secret to. */
  verifyHost: string | null;
  /** The file pattern a path rule reports, when it has one. */
  path: string | null;
}

export function listRules(ruleSet: ScanRuleSet): RuleListing[] {
  return ruleSet.rules.map((rule) => ({
    id: rule.id,
    description: rule.description,
    keywords: [...rule.keywords],
    provider: rule.provider ?? null,
    verifies: rule.provider !== undefined || rule.verify !== undefined,
    verifiesBy: rule.provider !== undefined ? 'adapter' : rule.verify !== undefined ? 'verify-block' : null,
    verifyHost: rule.provider === undefined && rule.verify ? new URL(declaredOrigin(rule.verify)).host : null,
    path: rule.path ?? null,
  }));
}

/** A plain-text table of the listing, one rule a line, widest id first column. */
export function renderRuleTable(listing: RuleListing[]): string {
  const width = Math.max(2, ...listing.map((rule) => rule.id.length));
  const providerWidth = Math.max(8, ...listing.map((rule) => (rule.provider ?? '-').length));
  const lines = [
    `${'ID'.padEnd(width)}  ${'PROVIDER'.padEnd(providerWidth)}  VERIFIES  KEYWORDS / DESCRIPTION`,
    ...listing.map((rule) => {
      const keywords = rule.keywords.length > 0 ? rule.keywords.join(',') : rule.path ? `path ${rule.path}` : '-';
      return `${rule.id.padEnd(width)}  ${(rule.provider ?? '-').padEnd(providerWidth)}  ${(rule.verifiesBy === 'adapter' ? 'adapter' : rule.verifiesBy ? 'request' : 'no').padEnd(8)}  ${keywords} — ${rule.description}`;
    }),
  ];
  const byAdapter = listing.filter((rule) => rule.verifiesBy === 'adapter').length;
  const byBlock = listing.filter((rule) => rule.verifiesBy === 'verify-block').length;
  return `${lines.join('\n')}\n${listing.length} rules, ${byAdapter + byBlock} verify live: ${byAdapter} through a provider adapter, ${byBlock} through a verify block\n`;
}
