// The report formats: every finding in each (Markdown and HTML up to a cap per team and class, saying so), hostile
// text escaped in HTML and Markdown, CSV cells that a spreadsheet would run as formulas neutralised.
import { describe, expect, it } from 'vitest';
import { LISTED_PER_TEAM_AND_CLASS, renderAuditReport } from './audit-report-render.js';
import type { AuditReport } from './quarterly-audit.js';

const REPORT: AuditReport = {
  asOf: '2026-12-07T00:00:00.000Z',
  generatedAt: '2026-12-07T01:00:00.000Z',
  headline: { activeKeys: 10, noClearOwner: 2, ownerLeft: 1, adminScope: 3, unregistered: 1 },
  byClass: { 'owner-left': 1, 'broad-scope': 1 } as AuditReport['byClass'],
  byTeam: { payments: 2 },
  ageBuckets: { '<90d': 4, '90-180d': 3, '180-365d': 2, '>1y': 1, unknown: 0 },
  keysByTeam: { payments: 7, growth: 3 },
  categories: { 'payments-stripe-001': 'service-key' },
  findings: [
    {
      class: 'owner-left',
      keyId: 'pay-1',
      team: 'payments',
      owner: 'carol@x.example',
      file: 'keys/pay-1.yaml',
      detail: 'carol left <script>alert(1)</script>',
    },
    { class: 'broad-scope', keyId: 'pay-2', team: 'payments', detail: '=HYPERLINK("http://evil","x") | pipes' },
  ],
  previous: {
    asOf: '2026-09-01T00:00:00.000Z',
    headline: { activeKeys: 8, noClearOwner: 3, ownerLeft: 0, adminScope: 3, unregistered: 0 },
    newFindings: 2,
    resolvedFindings: 1,
    resolved: [{ class: 'expired', keyId: 'old-1' }],
  },
};

describe('renderAuditReport', () => {
  it('markdown: headline with changes, classes with actions, findings per team, resolved ones', () => {
    const text = renderAuditReport(REPORT, 'markdown');
    expect(text).toContain('| Active keys | 10 | (+2) |');
    expect(text).toContain('| Owned by people who left | 1 | (+1) |');
    expect(text).toContain('| owner-left | 1 | reassign to a current owner and rotate (the owner has left) |');
    expect(text).toContain('### payments (2)');
    expect(text).toContain('\\| pipes');
    expect(text).toContain('- expired: old-1');
  });

  it('html: self-contained, charts as SVG, no markup from the data', () => {
    const html = renderAuditReport(REPORT, 'html');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<svg /g)?.length).toBe(3);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;script&#62;');
    expect(html).not.toMatch(/<script|src=|href=/);
  });

  it('csv: one row per finding, formula cells quoted out', () => {
    const csv = renderAuditReport(REPORT, 'csv').trim().split('\n');
    expect(csv[0]).toBe('class,key_id,team,owner,file,detail,action');
    expect(csv).toHaveLength(3);
    expect(csv[2]).toContain(`"'=HYPERLINK(""http://evil"",""x"") | pipes"`);
  });

  it('markdown and html list at most the cap per team and class and say how many more; csv and json list all', () => {
    const many = 250;
    const overdue = Array.from({ length: many }, (_, i) => ({
      class: 'rotation-overdue' as const,
      keyId: `pay-${String(i).padStart(3, '0')}`,
      team: 'payments',
      detail: 'rotation was due 2026-01-01',
    }));
    const big: AuditReport = {
      ...REPORT,
      byClass: { ...REPORT.byClass, 'rotation-overdue': many },
      findings: [...REPORT.findings, ...overdue],
    };
    const hidden = many - LISTED_PER_TEAM_AND_CLASS;
    const markdown = renderAuditReport(big, 'markdown');
    expect(markdown.match(/\| rotation-overdue \| - \|/g)).toHaveLength(LISTED_PER_TEAM_AND_CLASS);
    expect(markdown).toContain(`... and ${hidden} rotation-overdue more: see the CSV or JSON report.`);
    expect(markdown).toContain(`Lists show at most ${LISTED_PER_TEAM_AND_CLASS} findings per team and class`);
    expect(markdown).toContain('| pay-1 | owner-left |');
    expect(markdown).toContain('| rotation-overdue | 250 |');
    const html = renderAuditReport(big, 'html');
    expect(html.match(/<td>rotation-overdue<\/td><td>-<\/td>/g)).toHaveLength(LISTED_PER_TEAM_AND_CLASS);
    expect(html).toContain(`${hidden} rotation-overdue more`);
    expect(html).toContain('payments — 252 findings');
    expect(renderAuditReport(big, 'csv').trim().split('\n')).toHaveLength(1 + 2 + many);
    expect(JSON.parse(renderAuditReport(big, 'json')).findings).toHaveLength(2 + many);
    // Under the cap nothing is said about one.
    expect(renderAuditReport(REPORT, 'html')).not.toContain('Lists show at most');
  });

  it('json: the report itself', () => {
    expect(JSON.parse(renderAuditReport(REPORT, 'json'))).toEqual(REPORT);
  });
});
