// A finding as the rest of keyledger sees it: the leaked text is held in SecretValues (so it redacts itself in
// logs, errors and JSON by accident), with gitleaks' fingerprint and, when known, the registry entry it belongs to.
import { SecretValue } from '../../secrets/secret-value.js';
import type { CommitInfo, RawFinding } from './raw-finding.js';

export interface FindingOwner {
  keyId: string;
  ownerTeam?: string;
  owner?: string;
  provider?: string;
  status?: string;
  /** Set when the finding is the key's provider id (e.g. an AWS access key id), not its secret's fingerprint. */
  matchedBy?: 'provider-key-id';
}

export interface FindingLiveness {
  /** True when the provider accepted the secret on its identify-self call. */
  live: boolean;
  /** verified (accepted), invalid (refused: revoked or never valid), unknown (rate limited, timed out, odd answer). */
  status: 'verified' | 'invalid' | 'unknown';
  identity?: string;
  reason?: string;
}

export interface Finding {
  ruleId: string;
  description: string;
  startLine: number;
  endLine: number;
  startColumn: number;
  endColumn: number;
  /** The regex match around the secret; it contains the secret, so it is secret too. */
  match: SecretValue | undefined;
  secret: SecretValue | undefined;
  file: string;
  entropy: number;
  tags: string[];
  commit?: CommitInfo;
  /** gitleaks' fingerprint: `[commit:]file:rule:line`, the key of `.gitleaksignore`. */
  fingerprint: string;
  owner?: FindingOwner;
  liveness?: FindingLiveness;
}

export function findingFingerprint(raw: Pick<RawFinding, 'file' | 'ruleId' | 'startLine' | 'commit'>): string {
  const base = `${raw.file}:${raw.ruleId}:${raw.startLine}`;
  return raw.commit ? `${raw.commit.sha}:${base}` : base;
}

export function toFinding(raw: RawFinding): Finding {
  return {
    ruleId: raw.ruleId,
    description: raw.description,
    startLine: raw.startLine,
    endLine: raw.endLine,
    startColumn: raw.startColumn,
    endColumn: raw.endColumn,
    match: raw.match === '' ? undefined : new SecretValue(raw.match),
    secret: raw.secret === '' ? undefined : new SecretValue(raw.secret),
    file: raw.file,
    entropy: raw.entropy,
    tags: raw.tags,
    ...(raw.commit ? { commit: raw.commit } : {}),
    fingerprint: findingFingerprint(raw),
  };
}

/** Stable report order: by commit date (newest first as git log), then file, line and rule. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    (b.commit?.date ?? '').localeCompare(a.commit?.date ?? '') ||
    a.file.localeCompare(b.file) ||
    a.startLine - b.startLine ||
    a.startColumn - b.startColumn ||
    a.ruleId.localeCompare(b.ruleId)
  );
}

/**
 * The secret and match as a report may show them. `percent` is gitleaks' --redact: 100 hides the secret
 * entirely, N < 100 keeps the first (100 - N)% of it followed by `...`; 0 reveals.
 */
export function redactedTexts(finding: Finding, percent: number): { secret: string; match: string } {
  const secret = finding.secret?.reveal() ?? '';
  const match = finding.match?.reveal() ?? '';
  if (percent <= 0) return { secret, match };
  const masked = maskSecret(secret, percent);
  return { secret: masked, match: secret === '' ? match : match.split(secret).join(masked) };
}

export function maskSecret(secret: string, percent: number): string {
  if (secret === '') return '';
  if (percent >= 100) return 'REDACTED';
  const keep = Math.floor((secret.length * (100 - percent)) / 100);
  return `${secret.slice(0, keep)}...`;
}
