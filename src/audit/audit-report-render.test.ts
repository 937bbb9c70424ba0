// The report formats: every finding in each, hostile text escaped in HTML and Markdown, CSV cells that a
// spreadsheet would run as formulas neutralised.
import { describe, expect, it } from 'vitest';
import { renderAuditReport } from './audit-report-render.js';
import type { AuditReport } from './quarterly-audit.js';

const REPORT: AuditReport = {
  asOf: '2026-12-07T00:00:00.000Z',
  generatedAt: '2026-12-07T01:00:00.000Z',
  headline: { activeKeys: 10, noClearOwner: 2, ownerLeft: 1, adminScope: 3, unregistered: 1 },
  byClass: { 'owner-left': 1, 'broad-scope': 1 } as AuditReport['byClass'],
  byTeam: { payments: 2 },
  ageBuckets: { '<90d': 4, '90-180d': 3, '180-365d': 2, '>1y': 1, unknown: 0 },
  keysByTeam: { payments: 7, growth: 3 },
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

  it('json: the report itself', () => {
    expect(JSON.parse(renderAuditReport(REPORT, 'json'))).toEqual(REPORT);
  });
});
