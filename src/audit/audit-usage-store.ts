// The audit-log usage and anomaly tables (migration 0010_audit): aggregates merged in (a re-ingest of
// overlapping files adds counts; the caller deduplicates files, see audit-log-ingest.ts), read back per key for
// `keyledger usage`, and the inputs the credential index needs from the journal and the event log.
import { type Kysely, sql } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import { dialectOf } from '../db/operational-store.js';
import { writeTransaction } from '../db/write-transaction.js';
import type { AnomalyRow, UsageRow } from './audit-log-enrichment.js';
import { inPrimaryKeyOrder, USAGE_COLUMNS, type UsageBatch, usageBatchesOf } from './audit-usage-batch.js';
import type { RotatedOutKey, TokenDigest } from './credential-index.js';
import type { KeyTeamUses } from './team-usage.js';

/**
 * Anomaly rows per statement. Each batch travels as one JSON parameter (a few MB) that the engine itself unpacks
 * (SQLite's `jsonb_each`, PostgreSQL's `jsonb_array_elements`: each row comes out binary, so reading its
 * columns with `->>` does not parse its text each time, as the `json` forms do — half the unpacking) into one
 * `INSERT ... SELECT ... ON CONFLICT`: the statement is compiled once per batch, not once per 500 rows with eleven
 * bound parameters each, which is where ingest spent most of its time (docs/benchmarks.md, `## Audit`). Usage rows
 * go the same way (audit-usage-batch.ts).
 */
const BATCH = 50_000;

const ANOMALY_COLUMNS = [
  'kind',
  'provider',
  'credential',
  'source',
  'key_id',
  'owner_team',
  'detail',
  'count',
  'first_at',
  'last_at',
] as const;

/**
 * The writes of one ingest, inside its transaction (AuditUsageStore.ingesting): usage a batch at a time as the
 * reading goes on, then the anomalies once.
 */
export interface AuditUsageWriter {
  /** The ingest's transaction, for writes that must commit with the counts (events, the files read). */
  readonly trx: Kysely<OperationalSchema>;
  /** Adds usage counts (audit-usage-batch.ts): a slot's rows may come in several batches; counts add up. */
  addUsage(batches: readonly UsageBatch[]): Promise<void>;
  /** Adds the anomalies; returns those seen for the first time, in the order given. */
  addAnomalies(anomalies: readonly AnomalyRow[]): Promise<AnomalyRow[]>;
}

export class AuditUsageStore {
  readonly #db: Kysely<OperationalSchema>;

  constructor(db: Kysely<OperationalSchema>) {
    this.#db = db;
  }

  /**
   * Adds the aggregates to what is stored; returns the anomalies seen for the first time. `withFresh` runs inside
   * the same transaction with those new anomalies (ingest logs each as an event), so they commit together or not.
   */
  async merge(
    usage: readonly UsageRow[],
    anomalies: readonly AnomalyRow[],
    withFresh?: (trx: Kysely<OperationalSchema>, fresh: readonly AnomalyRow[]) => Promise<void>,
  ): Promise<AnomalyRow[]> {
    return this.ingesting(async (writer) => {
      await writer.addUsage(usageBatchesOf(inPrimaryKeyOrder(usage)));
      const fresh = await writer.addAnomalies(anomalies);
      if (withFresh) await withFresh(writer.trx, fresh);
      return fresh;
    });
  }

  /**
   * Runs `work` in one write transaction with a writer for usage and anomalies: it commits when `work` returns and
   * stores nothing when it throws. An ingest writes usage while it still reads (audit-log-ingest.ts); on SQLite the
   * transaction holds the database's write lock from its start, so other writers wait for the whole ingest.
   */
  async ingesting<T>(work: (writer: AuditUsageWriter) => Promise<T>): Promise<T> {
    const dialect = dialectOf(this.#db);
    const unpack = rowsOfJson(dialect);
    // SQLite: a page cache large enough for the pages the ingest writes, for its transaction only. Usage comes in
    // sorted pieces, each a walk over the table's B-trees; with the default 16 MiB, a piece's dirty pages spilled
    // to the WAL and the next piece read them back (a million rows: 17 s of the storing thread against 11 s).
    // SQLite takes pages as it needs them, up to this, and gives back what is above the old size afterwards.
    const previousCache = dialect === 'sqlite' ? await sqliteCacheSize(this.#db) : undefined;
    if (previousCache !== undefined) await setSqliteCacheSize(this.#db, -INGEST_CACHE_KIB);
    try {
      return await writeTransaction(this.#db, async (trx) =>
        work({
          trx,
          addUsage: async (batches) => {
            for (const batch of batches) await upsertUsage(trx, unpack, batch.json);
          },
          addAnomalies: (anomalies) => upsertAnomalies(trx, unpack, anomalies),
        }),
      );
    } finally {
      if (previousCache !== undefined) await setSqliteCacheSize(this.#db, previousCache);
    }
  }

  /** A key's usage rows, newest day first, from `since` (YYYY-MM-DD) on. */
  async usageOf(keyId: string, since?: string) {
    let query = this.#db.selectFrom('audit_usage').selectAll().where('key_id', '=', keyId);
    if (since) query = query.where('day', '>=', since);
    return query.orderBy('day', 'desc').orderBy('count', 'desc').execute();
  }

  /** Uses per key and source team from `since` (YYYY-MM-DD) on: what per-team attribution (team-usage.ts) reads. */
  async usesByKeyAndTeam(since?: string): Promise<KeyTeamUses[]> {
    let query = this.#db
      .selectFrom('audit_usage')
      .select([
        'key_id',
        'source_team',
        (eb) => eb.fn.sum<number | string>('count').as('uses'),
        (eb) => eb.fn.max('last_at').as('last_at'),
      ]);
    if (since) query = query.where('day', '>=', since);
    const rows = await query.groupBy(['key_id', 'source_team']).execute();
    return rows.map((row) => ({ ...row, uses: Number(row.uses), last_at: String(row.last_at) }));
  }

  async anomaliesOf(filter: { keyId?: string; kind?: string } = {}) {
    let query = this.#db.selectFrom('audit_anomalies').selectAll();
    if (filter.keyId) query = query.where('key_id', '=', filter.keyId);
    if (filter.kind) query = query.where('kind', '=', filter.kind);
    return query.orderBy('last_at', 'desc').execute();
  }

  /**
   * Last observed use per registered key, made while the credential was the entry's current key: the join the
   * quarterly audit's "unused for 30 days" reads. A rotated-out or revoked key used afterwards (a stolen-key signal)
   * is not the entry in use, so it does not count (`last_current_at`, migration 0024); an entry whose only uses are
   * such signals has none.
   */
  async lastUseByKey(): Promise<Map<string, string>> {
    const rows = await this.#db
      .selectFrom('audit_usage')
      .select(['key_id', (eb) => eb.fn.max('last_current_at').as('last_at')])
      .where('key_id', 'is not', null)
      .groupBy('key_id')
      .execute();
    const lastUse = new Map<string, string>();
    for (const row of rows) if (row.last_at !== null) lastUse.set(row.key_id!, String(row.last_at));
    return lastUse;
  }

  /**
   * The teams whose sources called each credential no registry entry accounts for (`provider\u0000credential`, the
   * enrichment's `source_team`): what tells discovery that an unregistered key is shared between teams.
   */
  async teamsOfUnregisteredCredentials(): Promise<Map<string, string[]>> {
    const rows = await this.#db
      .selectFrom('audit_usage')
      .select(['provider', 'credential', 'source_team'])
      .where('key_id', 'is', null)
      .where('source_team', 'is not', null)
      .groupBy(['provider', 'credential', 'source_team'])
      .orderBy('source_team')
      .execute();
    const teams = new Map<string, string[]>();
    for (const row of rows) {
      const slot = `${row.provider}\u0000${row.credential}`;
      teams.set(slot, [...(teams.get(slot) ?? []), row.source_team!]);
    }
    return teams;
  }

  /**
   * Providers with any ingested usage: only their keys can be called unused. One index seek per provider (the
   * primary key leads with provider), not a `distinct` over every usage row: a million rows took 0.16 s of CPU for
   * an answer of one or two names, this takes a millisecond. The recursive form reads the same on both engines.
   */
  async providersWithUsage(): Promise<Set<string>> {
    const { rows } = await sql<{ provider: string | null }>`
      with recursive seen(provider) as (
        select min(provider) from audit_usage
        union all
        select (select min(u.provider) from audit_usage u where u.provider > seen.provider) from seen
        where seen.provider is not null)
      select provider from seen where provider is not null`.execute(this.#db);
    return new Set(rows.map((row) => row.provider!));
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

  /** The token-digest index (token-digests.ts), for records that name a token by its hash. */
  async tokenDigests(): Promise<TokenDigest[]> {
    return this.#db.selectFrom('token_digests').select(['digest', 'provider', 'key_id', 'provider_key_id']).execute();
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

type RowsOfJson = ReturnType<typeof rowsOfJson>;

/** The ingest transaction's SQLite page cache, at most (KiB). */
const INGEST_CACHE_KIB = 1024 * 1024;

async function sqliteCacheSize(db: Kysely<OperationalSchema>): Promise<number> {
  const { rows } = await sql<{ cache_size: number }>`pragma cache_size`.execute(db);
  return Number(rows[0]!.cache_size);
}

async function setSqliteCacheSize(db: Kysely<OperationalSchema>, size: number): Promise<void> {
  await sql.raw(`pragma cache_size = ${Math.trunc(size)}`).execute(db);
}

async function upsertUsage(trx: Kysely<OperationalSchema>, unpack: RowsOfJson, json: string): Promise<void> {
  await sql`
    insert into audit_usage (${sql.raw(USAGE_COLUMNS.join(', '))})
    select ${unpack.columns(USAGE_COLUMNS, ['count'])} from ${unpack.rows(json)} where true
    on conflict (provider, credential, day, source, principal, outcome) do update set
      count = audit_usage.count + excluded.count,
      first_at = case when excluded.first_at < audit_usage.first_at then excluded.first_at else audit_usage.first_at end,
      last_at = case when excluded.last_at > audit_usage.last_at then excluded.last_at else audit_usage.last_at end,
      last_current_at = case when audit_usage.last_current_at is null
          or excluded.last_current_at > audit_usage.last_current_at
        then excluded.last_current_at else audit_usage.last_current_at end,
      key_id = coalesce(excluded.key_id, audit_usage.key_id),
      source_team = coalesce(excluded.source_team, audit_usage.source_team)`.execute(trx);
}

async function upsertAnomalies(
  trx: Kysely<OperationalSchema>,
  unpack: RowsOfJson,
  anomalies: readonly AnomalyRow[],
): Promise<AnomalyRow[]> {
  const fresh: AnomalyRow[] = [];
  for (let i = 0; i < anomalies.length; i += BATCH) {
    const batch = anomalies.slice(i, i + BATCH);
    const json = asJson(batch, ANOMALY_COLUMNS);
    // Which of the batch are new, in one look-up: the positions (in no promised order, hence the sort) of rows
    // whose slot no stored anomaly has.
    const { rows } = await sql<{ position: number | string }>`
      select r.position as position from (
        select ${unpack.position} as position, ${unpack.columns(['kind', 'provider', 'credential', 'source'], [], ANOMALY_COLUMNS)}
        from ${unpack.rows(json)}) r
      where not exists (select 1 from audit_anomalies a where a.kind = r.kind and a.provider = r.provider
        and a.credential = r.credential and a.source = r.source)`.execute(trx);
    const positions = rows.map((row) => Number(row.position)).sort((a, b) => a - b);
    for (const position of positions) fresh.push(batch[position]!);
    await sql`
      insert into audit_anomalies (${sql.raw(ANOMALY_COLUMNS.join(', '))})
      select ${unpack.columns(ANOMALY_COLUMNS, ['count'])} from ${unpack.rows(json)} where true
      on conflict (kind, provider, credential, source) do update set
        count = audit_anomalies.count + excluded.count,
        first_at = case when excluded.first_at < audit_anomalies.first_at then excluded.first_at else audit_anomalies.first_at end,
        last_at = case when excluded.last_at > audit_anomalies.last_at then excluded.last_at else audit_anomalies.last_at end,
        detail = excluded.detail`.execute(trx);
  }
  return fresh;
}

/** Rows as one JSON array of arrays, the columns in `columns` order (compact: no key names repeated per row). */
function asJson<Row>(rows: readonly Row[], columns: readonly (keyof Row & string)[]): string {
  return JSON.stringify(rows.map((row) => columns.map((column) => row[column] ?? null)));
}

/** The SQL that turns a JSON array of row arrays back into rows, per engine. */
function rowsOfJson(dialect: 'sqlite' | 'postgres') {
  // `->>` with an array index reads the same on both engines (SQLite 3.38+, PostgreSQL 9.3+): text, number or NULL.
  const at = (index: number) => sql.raw(`j.value ->> ${index}`);
  return {
    /** The element's position in the array (0-based). */
    position: sql.raw(dialect === 'sqlite' ? 'j.key' : '(j.ordinality - 1)'),
    rows: (json: string) =>
      dialect === 'sqlite'
        ? sql`jsonb_each(${json}) j`
        : sql`jsonb_array_elements(${json}::jsonb) with ordinality as j(value, ordinality)`,
    /** `wanted` columns, each read from its place in `all` (default: `wanted` is the whole row); `numeric` as bigint. */
    columns: (wanted: readonly string[], numeric: readonly string[], all: readonly string[] = wanted) =>
      sql.join(
        wanted.map((column) => {
          const value = at(all.indexOf(column));
          return sql`${numeric.includes(column) && dialect === 'postgres' ? sql`(${value})::bigint` : value} as ${sql.ref(column)}`;
        }),
      ),
  };
}
