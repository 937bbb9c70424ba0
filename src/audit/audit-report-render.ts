// The quarterly audit report (quarterly-audit.ts) as Markdown (for a pull request or a wiki), HTML with charts (for
// the people who sign the audit off; self-contained, inline SVG, no script), CSV (one finding a row, for a
// spreadsheet) and JSON. Everything printed comes from registry fields and audit-log ids: no key material exists
// in the report's input to leak.
import {
  AUDIT_FINDING_ACTIONS,
  AUDIT_FINDING_CLASSES,
  type AuditFinding,
  type AuditHeadline,
  type AuditReport,
} from './quarterly-audit.js';

export const AUDIT_REPORT_FORMATS = ['markdown', 'html', 'csv', 'json'] as const;
export type AuditReportFormat = (typeof AUDIT_REPORT_FORMATS)[number];

/**
 * The Markdown and HTML reports list at most this many findings per team and class; the counts are always
 * complete, and the CSV and JSON reports list every finding. On 100,000 keys an audit has ~200,000 findings: listed
 * whole they made a 30 MB page and a 22 MB Markdown file that no browser or pull request shows usefully, and
 * rendering them was most of the audit's time (docs/benchmarks.md, `## Audit`). A team's first hundred of a class
 * say what to fix; the CSV is the work list.
 */
export const LISTED_PER_TEAM_AND_CLASS = 100;

const CAP_NOTE = `Lists show at most ${LISTED_PER_TEAM_AND_CLASS} findings per team and class, so the report stays readable at any size; every count is complete, and the CSV and JSON reports (\`keyledger audit --format csv\`) list every finding.`;

const HEADLINE_LABELS: Record<keyof AuditHeadline, string> = {
  activeKeys: 'Active keys',
  noClearOwner: 'Without a clear owner',
  ownerLeft: 'Owned by people who left',
  adminScope: 'With admin or broad scope',
  unregistered: 'In use without a registry entry',
};

export function renderAuditReport(report: AuditReport, format: AuditReportFormat): string {
  switch (format) {
    case 'markdown':
      return renderMarkdown(report);
    case 'html':
      return renderHtml(report);
    case 'csv':
      return renderCsv(report);
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
  }
}

function change(now: number, then: number | undefined): string {
  if (then === undefined) return '';
  const delta = now - then;
  return delta === 0 ? ' (=)' : ` (${delta > 0 ? '+' : ''}${delta})`;
}

function renderMarkdown(report: AuditReport): string {
  const lines: string[] = [];
  lines.push(`# Quarterly API key audit, as of ${report.asOf.slice(0, 10)}`, '');
  if (report.previous) {
    lines.push(
      `Compared with the audit of ${report.previous.asOf.slice(0, 10)}: ${report.previous.newFindings} new findings, ` +
        `${report.previous.resolvedFindings} resolved.`,
      '',
    );
  }
  lines.push('| | now | change |', '|---|---:|---:|');
  for (const [field, label] of Object.entries(HEADLINE_LABELS) as Array<[keyof AuditHeadline, string]>) {
    lines.push(
      `| ${label} | ${report.headline[field]} | ${change(report.headline[field], report.previous?.headline[field]).trim() || '-'} |`,
    );
  }
  lines.push('', '## Findings by class', '', '| class | findings | what to do |', '|---|---:|---|');
  for (const cls of AUDIT_FINDING_CLASSES) {
    if (report.byClass[cls] > 0) lines.push(`| ${cls} | ${report.byClass[cls]} | ${AUDIT_FINDING_ACTIONS[cls]} |`);
  }
  lines.push('', '## Findings by team', '');
  const byTeam = groupByTeam(report.findings);
  if (isCapped(byTeam)) lines.push(CAP_NOTE, '');
  for (const [team, findings] of byTeam) {
    lines.push(`### ${md(team)} (${findings.length})`, '', '| key | class | owner | detail |', '|---|---|---|---|');
    const more: string[] = [];
    for (const [cls, ofClass] of groupByClass(findings)) {
      for (const finding of ofClass.slice(0, LISTED_PER_TEAM_AND_CLASS)) {
        lines.push(`| ${md(finding.keyId)} | ${finding.class} | ${md(finding.owner ?? '-')} | ${md(finding.detail)} |`);
      }
      if (ofClass.length > LISTED_PER_TEAM_AND_CLASS) more.push(`${ofClass.length - LISTED_PER_TEAM_AND_CLASS} ${cls}`);
    }
    if (more.length > 0) lines.push('', `... and ${more.join(', ')} more: see the CSV or JSON report.`);
    lines.push('');
  }
  if (report.previous && report.previous.resolved.length > 0) {
    lines.push('## Resolved since the last audit', '');
    for (const item of report.previous.resolved.slice(0, 200)) lines.push(`- ${item.class}: ${md(item.keyId)}`);
    if (report.previous.resolved.length > 200) lines.push(`- ... and ${report.previous.resolved.length - 200} more`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

function renderCsv(report: AuditReport): string {
  const rows = [['class', 'key_id', 'team', 'owner', 'file', 'detail', 'action']];
  for (const finding of report.findings) {
    rows.push([
      finding.class,
      finding.keyId,
      finding.team,
      finding.owner ?? '',
      finding.file ?? '',
      finding.detail,
      AUDIT_FINDING_ACTIONS[finding.class],
    ]);
  }
  return `${rows.map((row) => row.map(csvField).join(',')).join('\n')}\n`;
}

function renderHtml(report: AuditReport): string {
  const headlineRows = (Object.entries(HEADLINE_LABELS) as Array<[keyof AuditHeadline, string]>)
    .map(
      ([field, label]) =>
        `<tr><th scope="row">${esc(label)}</th><td>${report.headline[field]}</td><td>${esc(change(report.headline[field], report.previous?.headline[field]).trim() || '-')}</td></tr>`,
    )
    .join('');
  const classRows = AUDIT_FINDING_CLASSES.filter((cls) => report.byClass[cls] > 0)
    .map((cls) => `<tr><td>${cls}</td><td>${report.byClass[cls]}</td><td>${esc(AUDIT_FINDING_ACTIONS[cls])}</td></tr>`)
    .join('');
  const byTeam = groupByTeam(report.findings);
  const teamSections = [...byTeam]
    .map(([team, findings]) => {
      const rows: string[] = [];
      const more: string[] = [];
      for (const [cls, ofClass] of groupByClass(findings)) {
        for (const f of ofClass.slice(0, LISTED_PER_TEAM_AND_CLASS)) {
          rows.push(
            `<tr><td><code>${esc(f.keyId)}</code></td><td>${f.class}</td><td>${esc(f.owner ?? '-')}</td><td>${esc(f.detail)}</td></tr>`,
          );
        }
        if (ofClass.length > LISTED_PER_TEAM_AND_CLASS)
          more.push(`${ofClass.length - LISTED_PER_TEAM_AND_CLASS} ${cls}`);
      }
      const tail = more.length > 0 ? `<p>... and ${esc(more.join(', '))} more: see the CSV or JSON report.</p>` : '';
      return `<details><summary>${esc(team)} — ${findings.length} findings</summary><table><thead><tr><th>key</th><th>class</th><th>owner</th><th>detail</th></tr></thead><tbody>${rows.join('')}</tbody></table>${tail}</details>`;
    })
    .join('\n');
  const trend = report.previous
    ? barChart(
        'Headline counts: last audit and now',
        (Object.entries(HEADLINE_LABELS) as Array<[keyof AuditHeadline, string]>).flatMap(([field, label]) => [
          {
            label: `${label} (${report.previous!.asOf.slice(0, 10)})`,
            value: report.previous!.headline[field],
            muted: true,
          },
          { label: `${label} (now)`, value: report.headline[field] },
        ]),
      )
    : '<p>No earlier audit recorded: the trend starts with this one.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Quarterly API key audit, ${esc(report.asOf.slice(0, 10))}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1f24}
table{border-collapse:collapse;margin:1rem 0;width:100%}th,td{border-bottom:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
td:nth-child(2){font-variant-numeric:tabular-nums}figure{margin:1.5rem 0}figcaption{font-weight:600}
summary{cursor:pointer;font-weight:600;margin:.5rem 0}code{font-size:90%}
</style></head><body>
<h1>Quarterly API key audit, as of ${esc(report.asOf.slice(0, 10))}</h1>
<p>Generated ${esc(report.generatedAt)}.${report.previous ? ` Compared with the audit of ${esc(report.previous.asOf.slice(0, 10))}: ${report.previous.newFindings} new findings, ${report.previous.resolvedFindings} resolved.` : ''}</p>
<table><thead><tr><th></th><th>now</th><th>change</th></tr></thead><tbody>${headlineRows}</tbody></table>
${barChart(
  'Active keys by age',
  Object.entries(report.ageBuckets).map(([label, value]) => ({ label, value })),
)}
${barChart(
  'Active keys by owning team',
  Object.entries(report.keysByTeam)
    .sort((a, b) => b[1] - a[1])
    .map(([label, value]) => ({ label, value })),
)}
${trend}
<h2>Findings by class</h2>
<table><thead><tr><th>class</th><th>findings</th><th>what to do</th></tr></thead><tbody>${classRows}</tbody></table>
<h2>Findings by team</h2>
${isCapped(byTeam) ? `<p>${esc(CAP_NOTE)}</p>` : ''}
${teamSections}
</body></html>
`;
}

/** A horizontal bar chart as inline SVG, with a text table fallback for screen readers. */
export function barChart(title: string, bars: Array<{ label: string; value: number; muted?: boolean }>): string {
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  const row = 22;
  const labelWidth = 300;
  const width = 760;
  const height = bars.length * row + 10;
  const body = bars
    .map((bar, index) => {
      const y = index * row + 5;
      const length = Math.round(((width - labelWidth - 60) * bar.value) / max);
      return `<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end" font-size="12">${esc(bar.label)}</text><rect x="${labelWidth}" y="${y + 3}" width="${length}" height="14" fill="${bar.muted ? '#afb8c1' : '#0969da'}"/><text x="${labelWidth + length + 6}" y="${y + 14}" font-size="12">${bar.value}</text>`;
    })
    .join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg role="img" aria-label="${esc(title)}" viewBox="0 0 ${width} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg">${body}</svg></figure>`;
}

function groupByTeam(findings: readonly AuditFinding[]): Map<string, AuditFinding[]> {
  const byTeam = new Map<string, AuditFinding[]>();
  for (const finding of findings) {
    const list = byTeam.get(finding.team) ?? [];
    list.push(finding);
    byTeam.set(finding.team, list);
  }
  return byTeam;
}

/** A team's findings per class, in the order they come (the audit sorts by team, class, key). */
function groupByClass(findings: readonly AuditFinding[]): Map<string, AuditFinding[]> {
  const byClass = new Map<string, AuditFinding[]>();
  for (const finding of findings) {
    const list = byClass.get(finding.class) ?? [];
    list.push(finding);
    byClass.set(finding.class, list);
  }
  return byClass;
}

function isCapped(byTeam: ReadonlyMap<string, readonly AuditFinding[]>): boolean {
  for (const findings of byTeam.values()) {
    for (const ofClass of groupByClass(findings).values()) if (ofClass.length > LISTED_PER_TEAM_AND_CLASS) return true;
  }
  return false;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function md(text: string): string {
  return text.replace(/[|\\`*_<>[\]]/g, (char) => `\\${char}`).replace(/\n/g, ' ');
}

function csvField(text: string): string {
  // A leading = + - @ makes spreadsheets run the cell as a formula: quote it out (CSV injection).
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
