// The anomalies the quarterly audit turns into findings, read as the audit uses them: one row per finding class and
// key — the newest by last use, which is the one the audit would keep from every stored anomaly read newest first
// (audit-usage-store.ts anomaliesOf). The bench's ingest of 1,000,000 records stores ~175,000 anomalies (one per
// key and source) for ~11,000 findings; reading them all into the process took a second of the audit's CPU.
import { type Kysely, sql } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import { dialectOf } from '../db/operational-store.js';
import { ANOMALY_FINDING_CLASSES, type AuditAnomaly } from './quarterly-audit.js';

/**
 * One anomaly per finding class and key (the key_id, or `provider:credential` for a credential no entry names),
 * the one with the latest `last_at`. Ties go as `order by last_at desc` gives them on each engine: on SQLite in
 * insertion order (its sorter is stable over a table scan in rowid order), so the report is byte-identical to one
 * built from every anomaly; PostgreSQL promises no order for ties, so there the primary key decides.
 */
export async function anomalyFindingsOf(db: Kysely<OperationalSchema>): Promise<AuditAnomaly[]> {
  const kinds = Object.keys(ANOMALY_FINDING_CLASSES);
  const findingClass = sql.join(
    kinds.map((kind) => sql`when ${kind} then ${ANOMALY_FINDING_CLASSES[kind]!}`),
    sql` `,
  );
  const tie = dialectOf(db) === 'sqlite' ? sql`rowid` : sql`kind, provider, credential, source`;
  const { rows } = await sql<AuditAnomaly>`
    select kind, key_id, credential, provider, owner_team, detail from (
      select kind, key_id, credential, provider, owner_team, detail, row_number() over (
          partition by case kind ${findingClass} end,
            case when key_id is null or key_id = '' then provider || ':' || credential else key_id end
          order by last_at desc, ${tie}) as newest
      from audit_anomalies
      where kind in (${sql.join(kinds)})) ranked
    where newest = 1`.execute(db);
  return rows;
}
