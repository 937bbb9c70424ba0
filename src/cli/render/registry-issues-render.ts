// Human rendering of registry issues: grouped by file, one line per issue with line:column, severity, rule and
// field, in the shape of eslint's stylish formatter that reviewers already read.
import type { RegistryIssue } from '../../registry/registry-issue.js';
import { type CliContext, palette } from '../cli-context.js';

export function renderIssuesByFile(context: CliContext, issues: readonly RegistryIssue[]): string {
  const colors = palette(context);
  const byFile = new Map<string, RegistryIssue[]>();
  for (const issue of issues) byFile.set(issue.file, [...(byFile.get(issue.file) ?? []), issue]);
  let text = '';
  for (const [file, fileIssues] of byFile) {
    text += `${colors.underline(file)}\n`;
    const positionWidth = Math.max(...fileIssues.map((issue) => position(issue).length));
    const ruleWidth = Math.max(...fileIssues.map((issue) => issue.rule.length));
    for (const issue of fileIssues) {
      const severity = issue.severity === 'error' ? colors.red('error  ') : colors.yellow('warning');
      const field = issue.field ? colors.dim(`  [${issue.field}]`) : '';
      text += `  ${colors.dim(position(issue).padEnd(positionWidth))}  ${severity}  ${colors.cyan(issue.rule.padEnd(ruleWidth))}  ${issue.message}${field}\n`;
    }
    text += '\n';
  }
  return text;
}

function position(issue: RegistryIssue): string {
  return issue.line === undefined ? '-' : `${issue.line}:${issue.column ?? 1}`;
}
