// `keyledger audit-log ingest`: reads audit logs (src/audit-logs/), enriches every record against the registry
// (audit-log-enrichment.ts), stores the aggregates and anomalies, logs each new anomaly as an event, and counts
// stolen-key signals in `api_key_unauthorized_use_detected_total`. Everything is written in one transaction, so an
// interrupted ingest stores nothing and can simply be run again: usage in sorted pieces while the reading goes on
// (the upsert adds counts up), then the anomalies and their events once every record was seen (an anomaly's detail
// is its first record's, its `first_at` the earliest). Large inputs are read and enriched in worker threads
// (threaded-audit-log-enrichment.ts) while this thread stores; on SQLite the transaction holds the write lock for
// the whole ingest.
import type { Kysely } from 'kysely';
import type { AuditLogSource } from '../audit-logs/audit-log-input.js';
import type { AuditLogReader } from '../audit-logs/audit-log-reader.js';
import type { AuditLogProblem } from '../audit-logs/audit-log-record.js';
import { readAuditLogBatches } from '../audit-logs/read-audit-logs.js';
import { auditLogReadThreads } from '../audit-logs/threaded-audit-log-reading.js';
import type { OperationalSchema } from '../db/operational-schema.js';
import type { EventLog } from '../events/event-log.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { type AnomalyRow, AuditLogEnrichment, type EnrichmentSummary } from './audit-log-enrichment.js';
import { usageBatchesOf } from './audit-usage-batch.js';
import type { AuditUsageStore } from './audit-usage-store.js';
import { CredentialIndex, type CredentialIndexInput, credentialIndexEntryOf } from './credential-index.js';
import { enrichAuditLogsThreaded } from './threaded-audit-log-enrichment.js';

/** Events per append call: one transaction holds them all, this bounds one statement's size. */
const EVENTS_PER_APPEND = 1000;

/**
 * Usage rows an enrichment holds before they are written (sorted, audit-usage-batch.ts) while the reading goes on:
 * larger pieces walk the table's indexes fewer times, smaller ones hold less memory and leave less to write once the
 * reading is done (docs/audit.md, "Ingest").
 */
const USAGE_ROWS_PER_PIECE = 100_000;

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
  /** Usage rows held before they are written (default USAGE_ROWS_PER_PIECE; tests make it small). */
  usageRowsPerPiece?: number;
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
  const indexInput: CredentialIndexInput = {
    entries: input.entries.map(credentialIndexEntryOf),
    rotatedOut: await input.store.rotatedOutKeys(),
    revokedAt: await input.store.revocationTimes(),
    tokenDigests: await input.store.tokenDigests(),
  };
  const enrichment = new AuditLogEnrichment(new CredentialIndex(indexInput), {
    ...(input.onUnauthorisedUse ? { onUnauthorisedUse: input.onUnauthorisedUse } : {}),
  });
  const maxProblems = input.maxProblems ?? 20;
  const every = input.progressEvery ?? 100_000;
  const usageRowsPerPiece = input.usageRowsPerPiece ?? USAGE_ROWS_PER_PIECE;
  const firstProblems: AuditLogProblem[] = [];
  let problems = 0;
  let skipped = 0;
  let seen = 0;
  const problem = (found: AuditLogProblem) => {
    problems += 1;
    if (firstProblems.length < maxProblems) firstProblems.push(found);
  };
  const threads = auditLogReadThreads(input.sources, {
    readers: input.readers,
    ...(input.threads !== undefined ? { threads: input.threads } : {}),
  });
  // One transaction from the first usage piece to the events: usage is written while the reading goes on, and an
  // interrupted ingest still stores nothing.
  return input.store.ingesting(async (writer) => {
    let usageRows: number;
    if (threads > 0) {
      usageRows = 0;
      const enriched = enrichAuditLogsThreaded(input.sources, {
        readers: input.readers,
        threads,
        index: indexInput,
        usageRowsPerPiece,
      });
      for await (const output of enriched) {
        if (output.type === 'part') {
          enrichment.absorb(output.part);
          continue;
        }
        if (output.type === 'done') {
          await writer.addUsage(output.usage);
          usageRows = output.usageRows;
          continue;
        }
        // Progress at the same counts as in one thread: every multiple of `every` this batch passed.
        if (input.onProgress) {
          for (let at = (Math.floor(seen / every) + 1) * every; at <= seen + output.items; at += every) {
            input.onProgress(at);
          }
        }
        seen += output.items;
        for (const found of output.problems) problem(found);
        skipped += output.skipped;
        for (const keyId of output.unauthorised) input.onUnauthorisedUse?.(keyId);
        await writer.addUsage(output.usage);
        output.taken();
      }
    } else {
      const reading = readAuditLogBatches(input.sources, { readers: input.readers });
      for await (const items of reading) {
        for (const item of items) {
          seen += 1;
          if (input.onProgress && seen % every === 0) input.onProgress(seen);
          if ('record' in item) enrichment.add(item.record);
          else if ('problem' in item) problem(item.problem);
          else skipped += 1;
        }
        if (enrichment.pendingUsageRows >= usageRowsPerPiece) {
          await writer.addUsage(usageBatchesOf(enrichment.takeUsage()));
        }
      }
      usageRows = enrichment.usageSlotCount();
    }
    const { usage, anomalies, summary } = enrichment.finish();
    await writer.addUsage(usageBatchesOf(usage));
    const newAnomalies = await writer.addAnomalies(anomalies);
    // Each new anomaly is an event, appended in the transaction that stores it (both or neither), a chunk per call.
    const events = input.events;
    const actor = input.actor ?? 'system:audit-log-ingest';
    if (events) {
      for (let i = 0; i < newAnomalies.length; i += EVENTS_PER_APPEND) {
        await events.appendWithin(
          writer.trx,
          newAnomalies.slice(i, i + EVENTS_PER_APPEND).map((anomaly) => ({
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
    await input.withinCommit?.(writer.trx);
    return {
      ...summary,
      sources: input.sources.length,
      problems,
      firstProblems,
      skipped,
      usageRows,
      newAnomalies,
    };
  });
}
