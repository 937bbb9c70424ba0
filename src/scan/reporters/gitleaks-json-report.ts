// The JSON report, field for field gitleaks' (RuleID ... Fingerprint), so tools that read gitleaks reports read
// ours. keyledger's additions (KeyID, OwnerTeam, Owner, MatchedBy, Live) appear only when known. Secret and Match are the
// one place key material may leave the scanner; `--redact` masks them as gitleaks' flag does.
import { type Finding, redactedTexts } from '../findings/finding.js';

export interface GitleaksRecord {
  RuleID: string;
  Description: string;
  StartLine: number;
  EndLine: number;
  StartColumn: number;
  EndColumn: number;
  Match: string;
  Secret: string;
  File: string;
  SymlinkFile: string;
  Commit: string;
  Entropy: number;
  Author: string;
  Email: string;
  Date: string;
  Message: string;
  Tags: string[];
  Fingerprint: string;
  KeyID?: string;
  OwnerTeam?: string;
  Owner?: string;
  /** `provider-key-id` when the finding is the key's provider id (an AWS access key id), not its secret. */
  MatchedBy?: string;
  Live?: boolean;
  /** verified, invalid or unknown (`--verify`). */
  Verification?: string;
}

export function toGitleaksRecord(finding: Finding, redactPercent: number): GitleaksRecord {
  const { secret, match } = redactedTexts(finding, redactPercent);
  return {
    RuleID: finding.ruleId,
    Description: finding.description,
    StartLine: finding.startLine,
    EndLine: finding.endLine,
    StartColumn: finding.startColumn,
    EndColumn: finding.endColumn,
    Match: match,
    Secret: secret,
    File: finding.file,
    SymlinkFile: '',
    Commit: finding.commit?.sha ?? '',
    Entropy: finding.entropy,
    Author: finding.commit?.author ?? '',
    Email: finding.commit?.email ?? '',
    Date: finding.commit?.date ?? '',
    Message: finding.commit?.message ?? '',
    Tags: finding.tags,
    Fingerprint: finding.fingerprint,
    ...(finding.owner ? { KeyID: finding.owner.keyId } : {}),
    ...(finding.owner?.ownerTeam ? { OwnerTeam: finding.owner.ownerTeam } : {}),
    ...(finding.owner?.owner ? { Owner: finding.owner.owner } : {}),
    ...(finding.owner?.matchedBy ? { MatchedBy: finding.owner.matchedBy } : {}),
    ...(finding.liveness ? { Live: finding.liveness.live, Verification: finding.liveness.status } : {}),
  };
}

export function renderJsonReport(findings: Finding[], redactPercent: number): string {
  return `${JSON.stringify(
    findings.map((finding) => toGitleaksRecord(finding, redactPercent)),
    null,
    1,
  )}\n`;
}
