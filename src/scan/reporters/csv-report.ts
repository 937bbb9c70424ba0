// CSV with gitleaks' columns. Secret and Match follow the JSON report's redaction (`--redact`), since
// spreadsheets get shared: callers pass 100 unless asked otherwise.
import { type Finding, redactedTexts } from '../findings/finding.js';

const COLUMNS = [
  'RuleID',
  'Commit',
  'File',
  'SymlinkFile',
  'Secret',
  'Match',
  'StartLine',
  'EndLine',
  'StartColumn',
  'EndColumn',
  'Author',
  'Message',
  'Date',
  'Email',
  'Fingerprint',
  'Tags',
  'KeyID',
  'OwnerTeam',
  'Owner',
  // keyledger: verified, invalid or unknown with `--verify`, empty otherwise.
  'Verification',
];

function cell(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function renderCsvReport(findings: Finding[], redactPercent: number): string {
  const rows = [COLUMNS.join(',')];
  for (const finding of findings) {
    const { secret, match } = redactedTexts(finding, redactPercent);
    rows.push(
      [
        finding.ruleId,
        finding.commit?.sha ?? '',
        finding.file,
        '',
        secret,
        match,
        finding.startLine,
        finding.endLine,
        finding.startColumn,
        finding.endColumn,
        finding.commit?.author ?? '',
        finding.commit?.message ?? '',
        finding.commit?.date ?? '',
        finding.commit?.email ?? '',
        finding.fingerprint,
        finding.tags.join(' '),
        finding.owner?.keyId ?? '',
        finding.owner?.ownerTeam ?? '',
        finding.owner?.owner ?? '',
        finding.liveness?.status ?? '',
      ]
        .map(cell)
        .join(','),
    );
  }
  return `${rows.join('\n')}\n`;
}
