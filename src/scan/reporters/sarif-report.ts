// SARIF 2.1.0 for code-scanning upload (GitHub, GitLab, Azure DevOps). The snippet is always redacted: SARIF is
// uploaded to third parties and shown in web UIs, so it must not carry the secret.
import { type Finding, redactedTexts } from '../findings/finding.js';
import type { ScanRuleSet } from '../rules/rule-definition.js';

const SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

export function renderSarifReport(findings: Finding[], ruleSet: ScanRuleSet, version: string): string {
  const used = new Set(findings.map((finding) => finding.ruleId));
  const rules = ruleSet.rules
    .filter((rule) => used.has(rule.id))
    .map((rule) => ({
      id: rule.id,
      name: rule.id,
      shortDescription: { text: rule.description || rule.id },
      properties: { tags: rule.tags },
    }));
  const results = findings.map((finding) => {
    const { match } = redactedTexts(finding, 100);
    return {
      ruleId: finding.ruleId,
      level: 'error',
      message: {
        text: `${finding.ruleId} has detected a secret in file ${finding.file}${finding.commit ? ` in commit ${finding.commit.sha}` : ''}${finding.owner ? ` (key ${finding.owner.keyId})` : ''}.`,
      },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: finding.file === '' ? 'stdin' : finding.file },
            region: {
              startLine: Math.max(1, finding.startLine),
              startColumn: Math.max(1, finding.startColumn),
              endLine: Math.max(1, finding.endLine),
              endColumn: Math.max(1, finding.endColumn + 1),
              snippet: { text: match },
            },
          },
        },
      ],
      partialFingerprints: {
        commitSha: finding.commit?.sha ?? '',
        email: finding.commit?.email ?? '',
        author: finding.commit?.author ?? '',
        date: finding.commit?.date ?? '',
        commitMessage: finding.commit?.message ?? '',
        keyledgerFingerprint: finding.fingerprint,
      },
      ...(finding.owner || finding.liveness
        ? {
            properties: {
              ...(finding.owner ? { keyId: finding.owner.keyId, ownerTeam: finding.owner.ownerTeam ?? '' } : {}),
              ...(finding.liveness ? { verification: finding.liveness.status } : {}),
            },
          }
        : {}),
    };
  });
  const log = {
    $schema: SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'keyledger',
            semanticVersion: version,
            informationUri: 'https://github.com/keyledger/keyledger',
            rules,
          },
        },
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 1)}\n`;
}
