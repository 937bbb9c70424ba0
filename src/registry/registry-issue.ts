// A problem found in a registry file: a parse error, a schema error, an unknown field or a policy violation.
// Every one carries the file, the position and the field path, so a reviewer can go straight to it.

export type IssueSeverity = 'error' | 'warning';

export interface RegistryIssue {
  severity: IssueSeverity;
  /** A stable id: `yaml-syntax`, `schema`, `unknown-field`, `duplicate-key-id`, or a policy rule id. */
  rule: string;
  message: string;
  /** Path of the file relative to the registry root, with forward slashes. */
  file: string;
  line?: number;
  column?: number;
  /** The field path, e.g. `scope.permissions[0]`. */
  field?: string;
  keyId?: string;
}

export function countBySeverity(issues: Iterable<RegistryIssue>): { errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  for (const issue of issues) {
    if (issue.severity === 'error') errors += 1;
    else warnings += 1;
  }
  return { errors, warnings };
}

/** Sorts issues by file, then line, then column, for stable output. */
export function compareIssues(a: RegistryIssue, b: RegistryIssue): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0) || a.rule.localeCompare(b.rule);
}
