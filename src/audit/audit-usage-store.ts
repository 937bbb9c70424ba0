// The audit-log usage and anomaly tables (migration 0010_audit): aggregates merged in (a re-ingest of
// overlapping files adds counts; the caller deduplicates files, see audit-log-ingest.ts), read back per key for
// `keyledger usage`, and the inputs the credential index needs from the journal and the event log.
import { type Kysely, sql } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import { writeTransaction } from '../db/write-transaction.js';
import type { AnomalyRow, UsageRow } from './audit-log-enrichment.js';
import type { RotatedOutKey } from './credential-index.js';

/** Rows per INSERT: under SQLite's 32,766 bound parameters with 11 columns, and short transactions on PostgreSQL. */
const BATCH = 500;

export class AuditUsageStore {
  readonly #db: Kysely<OperationalSchema>;

  constructor(db: Kysely<OperationalSchema>) {
    this.#db = db;
  }

  /** Adds the aggregates to what is stored; returns the anomalies seen for the first time. */
  async merge(usage: readonly UsageRow[], anomalies: readonly AnomalyRow[]): Promise<AnomalyRow[]> {
    return writeTransaction(this.#db, async (trx) => {
      for (let i = 0; i < usage.length; i += BATCH) {
        await trx
          .insertInto('audit_usage')
          .values(usage.slice(i, i + BATCH))
          .onConflict((conflict) =>
            conflict.columns(['provider', 'credential', 'day', 'source', 'principal', 'outcome']).doUpdateSet({
              count: sql`audit_usage.count + excluded.count`,
              first_at: sql`case when excluded.first_at < audit_usage.first_at then excluded.first_at else audit_usage.first_at end`,
              last_at: sql`case when excluded.last_at > audit_usage.last_at then excluded.last_at else audit_usage.last_at end`,
              key_id: sql`coalesce(excluded.key_id, audit_usage.key_id)`,
              source_team: sql`coalesce(excluded.source_team, audit_usage.source_team)`,
            }),
          )
          .execute();
      }
      const fresh: AnomalyRow[] = [];
      for (let i = 0; i < anomalies.length; i += BATCH) {
        const batch = anomalies.slice(i, i + BATCH);
        const known = new Set(
          (
            await trx
              .selectFrom('audit_anomalies')
              .select(['kind', 'provider', 'credential', 'source'])
              .where((eb) =>
                eb.or(
                  batch.map((row) =>
                    eb.and([
                      eb('kind', '=', row.kind),
                      eb('provider', '=', row.provider),
                      eb('credential', '=', row.credential),
                      eb('source', '=', row.source),
                    ]),
                  ),
                ),
              )
              .execute()
          ).map(anomalySlot),
        );
        for (const row of batch) if (!known.has(anomalySlot(row))) fresh.push(row);
        await trx
          .insertInto('audit_anomalies')
          .values(batch)
          .onConflict((conflict) =>
            conflict.columns(['kind', 'provider', 'credential', 'source']).doUpdateSet({
              count: sql`audit_anomalies.count + excluded.count`,
              first_at: sql`case when excluded.first_at < audit_anomalies.first_at then excluded.first_at else audit_anomalies.first_at end`,
              last_at: sql`case when excluded.last_at > audit_anomalies.last_at then excluded.last_at else audit_anomalies.last_at end`,
              detail: sql`excluded.detail`,
            }),
          )
          .execute();
      }
      return fresh;
    });
  }

  /** A key's usage rows, newest day first, from `since` (YYYY-MM-DD) on. */
  async usageOf(keyId: string, since?: string) {
    let query = this.#db.selectFrom('audit_usage').selectAll().where('key_id', '=', keyId);
    if (since) query = query.where('day', '>=', since);
    return query.orderBy('day', 'desc').orderBy('count', 'desc').execute();
  }

  async anomaliesOf(filter: { keyId?: string; kind?: string } = {}) {
    let query = this.#db.selectFrom('audit_anomalies').selectAll();
    if (filter.keyId) query = query.where('key_id', '=', filter.keyId);
    if (filter.kind) query = query.where('kind', '=', filter.kind);
    return query.orderBy('last_at', 'desc').execute();
  }

  /** Last observed use per registered key: the join the quarterly audit's "unused for 30 days" reads. */
  async lastUseByKey(): Promise<Map<string, string>> {
    const rows = await this.#db
      .selectFrom('audit_usage')
      .select(['key_id', (eb) => eb.fn.max('last_at').as('last_at')])
      .where('key_id', 'is not', null)
      .groupBy('key_id')
      .execute();
    return new Map(rows.map((row) => [row.key_id!, String(row.last_at)]));
  }

  /** Providers with any ingested usage: only their keys can be called unused. */
  async providersWithUsage(): Promise<Set<string>> {
    const rows = await this.#db.selectFrom('audit_usage').select('provider').distinct().execute();
    return new Set(rows.map((row) => row.provider));
  }

  /** Old keys of finished rotations, with when they were revoked (the journal row's last step). */
  async rotatedOutKeys(): Promise<RotatedOutKey[]> {
    const rows = await this.#db
      .selectFrom('rotation_journal')
      .select(['key_id', 'provider', 'old_provider_key_id', 'state_entered_at'])
      .where('state', '=', 'done')
      .where('old_provider_key_id', 'is not', null)
      .execute();
    return rows.map((row) => ({
      keyId: row.key_id,
      provider: row.provider,
      providerKeyId: row.old_provider_key_id!,
      endedAt: row.state_entered_at,
    }));
  }

  /** When each key was revoked, from the event log's `revoked` events (the latest per key). */
  async revocationTimes(): Promise<Map<string, string>> {
    const rows = await this.#db
      .selectFrom('events')
      .select(['key_id', (eb) => eb.fn.max('at').as('at')])
      .where('type', '=', 'revoked')
      .where('key_id', 'is not', null)
      .groupBy('key_id')
      .execute();
    return new Map(rows.map((row) => [row.key_id!, String(row.at)]));
  }
}

function anomalySlot(row: { kind: string; provider: string; credential: string; source: string }): string {
  return `${row.kind}\u0000${row.provider}\u0000${row.credential}\u0000${row.source}`;
}
