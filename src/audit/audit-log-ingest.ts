// `keyledger audit-log ingest`: reads audit logs (src/audit-logs/), enriches every record against the registry
// (audit-log-enrichment.ts), stores the aggregates and anomalies, logs each new anomaly as an event, and counts
// stolen-key signals in `api_key_unauthorized_use_detected_total`. The reading streams; nothing is written until
// the whole input was read, and then usage, anomalies and their events in one transaction, so an interrupted
// ingest stores nothing and can simply be run again.
import type { Kysely } from 'kysely';
import type { AuditLogSource } from '../audit-logs/audit-log-input.js';
import type { AuditLogReader } from '../audit-logs/audit-log-reader.js';
import type { AuditLogProblem } from '../audit-logs/audit-log-record.js';
import { readAuditLogBatchesThreaded } from '../audit-logs/threaded-audit-log-reading.js';
import type { OperationalSchema } from '../db/operational-schema.js';
import type { EventLog } from '../events/event-log.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { type AnomalyRow, AuditLogEnrichment, type EnrichmentSummary } from './audit-log-enrichment.js';
import type { AuditUsageStore } from './audit-usage-store.js';
import { CredentialIndex } from './credential-index.js';

/** Events per append call: one transaction holds them all, this bounds one statement's size. */
const EVENTS_PER_APPEND = 1000;

export interface IngestAuditLogsInput {
  sources: readonly AuditLogSource[];
  readers: readonly AuditLogReader[];
  entries: readonly KeyEntry[];
  store: AuditUsageStore;
  events?: EventLog;
  actor?: string;
  /** Called for each record that uses a revoked or rotated-out key (the metric). */
  onUnauthorisedUse?: (keyId: string) => void;
  /** Called every `progressEvery` records with the count so far. */
  onProgress?: (records: number) => void;
  progressEvery?: number;
  /** Problems kept in the result (all are counted). */
  maxProblems?: number;
  /**
   * Worker threads that read and parse the files while this thread enriches (0: all in this thread); default:
   * decided by the input's size and the machine (src/audit-logs/threaded-audit-log-reading.ts).
   */
  threads?: number;
  /**
   * Runs inside the transaction that stores the counts (the scheduled ingest records the files it read,
   * src/audit/audit-log-files.ts): what it writes commits with them or not at all, and its throwing stores nothing.
   */
  withinCommit?: (trx: Kysely<OperationalSchema>) => Promise<void>;
}

export interface IngestAuditLogsResult extends EnrichmentSummary {
  sources: number;
  problems: number;
  firstProblems: AuditLogProblem[];
  skipped: number;
  usageRows: number;
  newAnomalies: AnomalyRow[];
}

export async function ingestAuditLogs(input: IngestAuditLogsInput): Promise<IngestAuditLogsResult> {
  const index = new CredentialIndex({
    entries: input.entries,
    rotatedOut: await input.store.rotatedOutKeys(),
    revokedAt: await input.store.revocationTimes(),
    tokenDigests: await input.store.tokenDigests(),
  });
  const enrichment = new AuditLogEnrichment(index, {
    ...(input.onUnauthorisedUse ? { onUnauthorisedUse: input.onUnauthorisedUse } : {}),
  });
  const maxProblems = input.maxProblems ?? 20;
  const every = input.progressEvery ?? 100_000;
  const firstProblems: AuditLogProblem[] = [];
  let problems = 0;
  let skipped = 0;
  let seen = 0;
  const reading = readAuditLogBatchesThreaded(input.sources, {
    readers: input.readers,
    ...(input.threads !== undefined ? { threads: input.threads } : {}),
  });
  for await (const items of reading) {
    for (const item of items) {
      seen += 1;
      if (input.onProgress && seen % every === 0) input.onProgress(seen);
      if ('record' in item) enrichment.add(item.record);
      else if ('problem' in item) {
        problems += 1;
        if (firstProblems.length < maxProblems) firstProblems.push(item.problem);
      } else skipped += 1;
    }
  }
  const { usage, anomalies, summary } = enrichment.finish();
  // Each new anomaly is an event, appended in the transaction that stores it (both or neither), a chunk per call.
  const events = input.events;
  const actor = input.actor ?? 'system:audit-log-ingest';
  const newAnomalies = await input.store.merge(usage, anomalies, async (trx, fresh) => {
    if (events) {
      for (let i = 0; i < fresh.length; i += EVENTS_PER_APPEND) {
        await events.appendWithin(
          trx,
          fresh.slice(i, i + EVENTS_PER_APPEND).map((anomaly) => ({
            type: 'audit.anomaly',
            actor,
            keyId: anomaly.key_id,
            data: {
              kind: anomaly.kind,
              provider: anomaly.provider,
              credential: anomaly.credential,
              source: anomaly.source,
              detail: anomaly.detail,
              first_at: anomaly.first_at,
            },
          })),
        );
      }
    }
    await input.withinCommit?.(trx);
  });
  return {
    ...summary,
    sources: input.sources.length,
    problems,
    firstProblems,
    skipped,
    usageRows: usage.length,
    newAnomalies,
  };
}
