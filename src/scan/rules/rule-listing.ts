// The rules in force, as `keyledger scan rules` lists them: each rule's id, description, keywords, provider and
// whether a finding of it can be verified live (through its provider's adapter, src/scan/ownership/).
import type { ScanRuleSet } from './rule-definition.js';

export interface RuleListing {
  id: string;
  description: string;
  keywords: string[];
  /** The provider (provider table name) whose identify-self call proves a secret live, if any. */
  provider: string | null;
  /** Whether `scan --verify` can check a finding of this rule live. */
  verifies: boolean;
  /** The file pattern a path rule reports, when it has one. */
  path: string | null;
}

export function listRules(ruleSet: ScanRuleSet): RuleListing[] {
  return ruleSet.rules.map((rule) => ({
    id: rule.id,
    description: rule.description,
    keywords: [...rule.keywords],
    provider: rule.provider ?? null,
    verifies: rule.provider !== undefined,
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
      return `${rule.id.padEnd(width)}  ${(rule.provider ?? '-').padEnd(providerWidth)}  ${(rule.verifies ? 'yes' : 'no').padEnd(8)}  ${keywords} — ${rule.description}`;
    }),
  ];
  const verifying = listing.filter((rule) => rule.verifies).length;
  return `${lines.join('\n')}\n${listing.length} rules, ${verifying} verified live through a provider adapter\n`;
}
