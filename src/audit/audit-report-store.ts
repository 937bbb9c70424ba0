// Each quarterly audit's summary and finding list (table audit_reports, migration 0010_audit), so that the next
// audit reports what is new and what was resolved. Findings are kept as `class<TAB>key_id` lines: 100,000 keys with
// a few findings each stay a few megabytes of text, read once per audit.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import { type AuditReport, type AuditSummary, findingSlot, type PreviousAudit, summaryOf } from './quarterly-audit.js';

export class AuditReportStore {
  readonly #db: Kysely<OperationalSchema>;

  constructor(db: Kysely<OperationalSchema>) {
    this.#db = db;
  }

  /** The latest audit recorded strictly before `asOf`. */
  async previousTo(asOf: Date): Promise<PreviousAudit | undefined> {
    const row = await this.#db
      .selectFrom('audit_reports')
      .selectAll()
      .where('as_of', '<', asOf.toISOString())
      .orderBy('as_of', 'desc')
      .orderBy('generated_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      id: row.id,
      asOf: row.as_of,
      summary: JSON.parse(row.summary) as AuditSummary,
      findings: new Set(row.findings === '' ? [] : row.findings.split('\n')),
    };
  }

  async record(report: AuditReport): Promise<string> {
    const id = randomUUID();
    await this.#db
      .insertInto('audit_reports')
      .values({
        id,
        as_of: report.asOf,
        generated_at: report.generatedAt,
        summary: JSON.stringify(summaryOf(report)),
        findings: report.findings.map(findingSlot).join('\n'),
      })
      .execute();
    return id;
  }
}
