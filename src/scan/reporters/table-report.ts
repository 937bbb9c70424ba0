// The human report: one block per finding with the secret redacted (rule, place, commit, owner), then a
// summary line. Redacted unless the caller explicitly reveals, which the CLI allows only on a terminal.
import type { Finding } from '../findings/finding.js';
import { redactedTexts } from '../findings/finding.js';

export interface TablePalette {
  red(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

export function renderTableReport(findings: Finding[], palette: TablePalette, redactPercent = 100): string {
  const lines: string[] = [];
  for (const finding of findings) {
    const { secret } = redactedTexts(finding, redactPercent);
    const where = finding.file === '' ? '(stdin)' : finding.file;
    lines.push(`${palette.red(palette.bold(finding.ruleId))}  ${where}:${finding.startLine}:${finding.startColumn}`);
    lines.push(
      `  ${palette.dim('secret')}   ${secret === '' ? '(file)' : secret}${finding.secret ? palette.dim(`  (${finding.secret.length} chars, entropy ${finding.entropy.toFixed(2)})`) : ''}`,
    );
    if (finding.commit) {
      const subject = finding.commit.message.split('\n')[0] ?? '';
      lines.push(
        `  ${palette.dim('commit')}   ${finding.commit.sha.slice(0, 12)} ${finding.commit.author} <${finding.commit.email}> ${finding.commit.date}  ${subject}`,
      );
    }
    if (finding.owner) {
      const owner = [finding.owner.ownerTeam, finding.owner.owner].filter(Boolean).join(' / ');
      lines.push(
        `  ${palette.dim('key')}      ${palette.yellow(finding.owner.keyId)}${owner ? `  owned by ${owner}` : ''}` +
          (finding.owner.matchedBy === 'provider-key-id' ? palette.dim('  (its provider key id)') : ''),
      );
    }
    if (finding.liveness) {
      lines.push(`  ${palette.dim('live')}     ${livenessText(finding.liveness, palette.red)}`);
    }
    lines.push(`  ${palette.dim('fingerprint')} ${finding.fingerprint}`);
    lines.push('');
  }
  return lines.join('\n');
}

/** verified / invalid / unknown, with the reason (which never holds the secret). */
function livenessText(liveness: NonNullable<Finding['liveness']>, red: (text: string) => string): string {
  const reason = liveness.reason ? ` (${liveness.reason})` : '';
  if (liveness.status === 'verified') return red(`verified — the provider accepts it${reason}`);
  return `${liveness.status}${reason}`;
}
