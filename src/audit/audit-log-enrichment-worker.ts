// Worker thread body for an ingest's reading and enrichment off the main thread
// (threaded-audit-log-enrichment.ts): it reads its files as readAuditLogBatches does, enriches every record against
// its own copy of the credential index, and posts what the main thread needs to store — usage rows as ready upsert
// batches (sorted, serialised: audit-usage-batch.ts) each time it holds `usageRowsPerPiece` of them, and after each
// file that file's anomalies, cross-team uses and counts (an EnrichmentPart, absorbed in source order). The main
// thread then only stores, which was the ingest's bound (docs/audit.md, "Ingest").
import { parentPort } from 'node:worker_threads';
import { fileAuditLogSource } from '../audit-logs/audit-log-input.js';
import type { AuditLogReader } from '../audit-logs/audit-log-reader.js';
import { auditLogReaderTable, isBuiltinAuditLogFormat } from '../audit-logs/audit-log-reader-table.js';
import type { AuditLogProblem } from '../audit-logs/audit-log-record.js';
import { readAuditLogBatches } from '../audit-logs/read-audit-logs.js';
import { AuditLogEnrichment, type EnrichmentPart } from './audit-log-enrichment.js';
import { type UsageBatch, usageBatchesOf } from './audit-usage-batch.js';
import { CredentialIndex, type CredentialIndexInput } from './credential-index.js';

export interface AuditLogEnrichmentJob {
  /** Files to read, in order, and each one's position in the caller's list of sources. */
  paths: string[];
  positions: number[];
  formats: string[];
  maxRecordBytes?: number;
  index: CredentialIndexInput;
  /** Usage rows held before they are posted as a piece. */
  usageRowsPerPiece: number;
  /** Post the distinct usage slots at the end (several workers: the main thread counts their union), not a count. */
  postSlots: boolean;
}

export type AuditLogEnrichmentMessage =
  | {
      type: 'batch';
      position: number;
      /** Items read (records, problems, skipped), for progress. */
      items: number;
      problems: AuditLogProblem[];
      skipped: number;
      /** Key ids of revoked or rotated-out keys used, one per record, in order (the metric). */
      unauthorised: string[];
      /** A piece of usage, when this worker held enough rows: the main thread says `taken` once it is stored. */
      usage?: UsageBatch[];
    }
  | { type: 'end'; position: number; part: EnrichmentPart }
  | { type: 'done'; usage: UsageBatch[]; slotCount: number; slots?: string[] }
  | { type: 'failed'; message: string };

/** Usage pieces posted and not yet stored by the main thread before this worker waits (memory stays bounded). */
export const USAGE_PIECES_IN_FLIGHT = 2;

const port = parentPort;
if (port) {
  let credits = USAGE_PIECES_IN_FLIGHT;
  let wake: (() => void) | undefined;
  port.on('message', (message: { type: 'job'; job: AuditLogEnrichmentJob } | { type: 'taken' }) => {
    if (message.type === 'taken') {
      credits += 1;
      wake?.();
      wake = undefined;
      return;
    }
    void run(message.job);
  });
  const post = (message: AuditLogEnrichmentMessage) => port.postMessage(message);
  async function run(job: AuditLogEnrichmentJob): Promise<void> {
    try {
      const readers = job.formats.map((format): AuditLogReader => {
        if (!isBuiltinAuditLogFormat(format)) throw new Error(`no built-in audit-log reader ${format}`);
        return auditLogReaderTable[format];
      });
      let unauthorised: string[] = [];
      const enrichment = new AuditLogEnrichment(new CredentialIndex(job.index), {
        onUnauthorisedUse: (keyId) => unauthorised.push(keyId),
      });
      for (let i = 0; i < job.paths.length; i++) {
        const position = job.positions[i]!;
        const options = { readers, ...(job.maxRecordBytes ? { maxRecordBytes: job.maxRecordBytes } : {}) };
        for await (const items of readAuditLogBatches([fileAuditLogSource(job.paths[i]!)], options)) {
          if (items.length === 0) continue;
          const problems: AuditLogProblem[] = [];
          let skipped = 0;
          for (const item of items) {
            if ('record' in item) enrichment.add(item.record);
            else if ('problem' in item) problems.push(item.problem);
            else skipped += 1;
          }
          let usage: UsageBatch[] | undefined;
          if (enrichment.pendingUsageRows >= job.usageRowsPerPiece) {
            while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
            credits -= 1;
            usage = usageBatchesOf(enrichment.takeUsage());
          }
          post({
            type: 'batch',
            position,
            items: items.length,
            problems,
            skipped,
            unauthorised,
            ...(usage ? { usage } : {}),
          });
          unauthorised = [];
        }
        post({ type: 'end', position, part: enrichment.takePart() });
      }
      const slotCount = enrichment.usageSlotCount();
      const slots = job.postSlots ? [...enrichment.usageSlots()] : undefined;
      post({
        type: 'done',
        usage: usageBatchesOf(enrichment.takeUsage()),
        slotCount,
        ...(slots ? { slots } : {}),
      });
    } catch (error) {
      post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    }
  }
}
