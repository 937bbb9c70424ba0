// Worker thread body for reading audit-log files off the main thread (threaded-audit-log-reading.ts): it is handed
// a list of files and reader formats, reads them one after the other exactly as readAuditLogBatches does on the
// main thread — decompressing, cutting, JSON.parse and the reader's mapping, the bulk of an ingest's CPU — and
// posts the items a batch at a time. It runs at most IN_FLIGHT batches ahead of what the main thread has taken,
// so memory stays bounded however far the parsing outpaces the enrichment.
import { parentPort } from 'node:worker_threads';
import { fileAuditLogSource } from './audit-log-input.js';
import type { AuditLogReader } from './audit-log-reader.js';
import { auditLogReaderTable, isBuiltinAuditLogFormat } from './audit-log-reader-table.js';
import type { AuditLogItem } from './audit-log-record.js';
import { readAuditLogBatches } from './read-audit-logs.js';

export interface AuditLogReadJob {
  /** Files to read, in order, and each one's position in the caller's list of sources. */
  paths: string[];
  positions: number[];
  formats: string[];
  maxRecordBytes?: number;
}

export type AuditLogReadMessage =
  | { type: 'batch'; position: number; items: AuditLogItem[] }
  | { type: 'end'; position: number }
  | { type: 'failed'; message: string };

/** Batches posted and not yet taken by the main thread before this worker waits. */
export const IN_FLIGHT = 4;

const port = parentPort;
if (port) {
  let credits = IN_FLIGHT;
  let wake: (() => void) | undefined;
  port.on('message', (message: { type: 'job'; job: AuditLogReadJob } | { type: 'taken' }) => {
    if (message.type === 'taken') {
      credits += 1;
      wake?.();
      wake = undefined;
      return;
    }
    void run(message.job);
  });
  const post = (message: AuditLogReadMessage) => port.postMessage(message);
  async function run(job: AuditLogReadJob): Promise<void> {
    try {
      const readers = job.formats.map((format): AuditLogReader => {
        if (!isBuiltinAuditLogFormat(format)) throw new Error(`no built-in audit-log reader ${format}`);
        return auditLogReaderTable[format];
      });
      for (let i = 0; i < job.paths.length; i++) {
        const position = job.positions[i]!;
        const options = { readers, ...(job.maxRecordBytes ? { maxRecordBytes: job.maxRecordBytes } : {}) };
        for await (const items of readAuditLogBatches([fileAuditLogSource(job.paths[i]!)], options)) {
          if (items.length === 0) continue;
          while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
          credits -= 1;
          post({ type: 'batch', position, items });
        }
        post({ type: 'end', position });
      }
    } catch (error) {
      post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    }
  }
}
