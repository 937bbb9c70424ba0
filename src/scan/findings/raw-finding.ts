// A finding as the engine produces it: plain data with gitleaks' report fields, so it can cross from a worker
// thread. The secret is a plain string only on this hop; findings/finding.ts wraps it in a SecretValue.

export interface CommitInfo {
  sha: string;
  author: string;
  email: string;
  /** ISO 8601, as git prints with --date=iso-strict. */
  date: string;
  message: string;
}

export interface RawFinding {
  ruleId: string;
  description: string;
  startLine: number;
  endLine: number;
  startColumn: number;
  endColumn: number;
  match: string;
  secret: string;
  file: string;
  entropy: number;
  tags: string[];
  commit?: CommitInfo;
}
