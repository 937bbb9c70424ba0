// Reads and enriches audit-log files in worker threads (audit-log-enrichment-worker.ts) and hands the results to
// the ingest in the order of the sources, as src/audit-logs/threaded-audit-log-reading.ts does with records: worker
// k reads sources k, k + W, ...; each posts usage pieces ready for the store, and after each file that file's
// anomalies and counts, which the ingest absorbs in source order so that the first record of every anomaly is the
// same as in one thread. When the main thread both enriched and stored, it was the ingest's bound while the reader
// thread waited; now it stores while the workers read and enrich.

import type { AuditLogSource } from '../audit-logs/audit-log-input.js';
import type { AuditLogReader } from '../audit-logs/audit-log-reader.js';
import type { AuditLogProblem } from '../audit-logs/audit-log-record.js';
import { WorkerQueue } from '../audit-logs/threaded-audit-log-reading.js';
import { siblingModuleUrl, startModuleWorker } from '../runtime/module-worker.js';
import type { EnrichmentPart } from './audit-log-enrichment.js';
import type { AuditLogEnrichmentJob, AuditLogEnrichmentMessage } from './audit-log-enrichment-worker.js';
import type { UsageBatch } from './audit-usage-batch.js';
import type { CredentialIndexInput } from './credential-index.js';

/**
 * The workers' young generation: every record parsed is garbage a batch later, and V8's default (16 MiB semi-spaces
 * here) collected it so often that garbage collection was the worker's largest cost; 64 MiB took about 2 s of CPU
 * off a million records (docs/audit.md, "Ingest").
 */
const WORKER_YOUNG_GENERATION_MB = 64;

export interface ThreadedEnrichmentOptions {
  readers: readonly AuditLogReader[];
  maxRecordBytes?: number;
  /** Worker threads (at least one); the caller decides (auditLogReadThreads). */
  threads: number;
  index: CredentialIndexInput;
  usageRowsPerPiece: number;
}

/** What the workers found, in source order; `taken` tells a worker that a usage piece is stored. */
export type EnrichedOutput =
  | {
      type: 'batch';
      items: number;
      problems: AuditLogProblem[];
      skipped: number;
      unauthorised: string[];
      usage: UsageBatch[];
      /** Call once the usage is stored: the worker then may post another piece. */
      taken: () => void;
    }
  | { type: 'part'; part: EnrichmentPart }
  /** Last, once: the workers' remaining usage and the number of distinct usage rows over all of them. */
  | { type: 'done'; usage: UsageBatch[]; usageRows: number };

export async function* enrichAuditLogsThreaded(
  sources: readonly AuditLogSource[],
  options: ThreadedEnrichmentOptions,
): AsyncGenerator<EnrichedOutput> {
  const threads = options.threads;
  const url = siblingModuleUrl(import.meta.url, 'audit-log-enrichment-worker');
  const workers = Array.from(
    { length: threads },
    () =>
      new WorkerQueue<AuditLogEnrichmentMessage>(
        startModuleWorker(url, { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } }),
      ),
  );
  const next = async (worker: WorkerQueue<AuditLogEnrichmentMessage>) => {
    const message = await worker.next();
    if (message.type === 'failed') throw new Error(`audit-log enrichment thread failed: ${message.message}`);
    return message;
  };
  try {
    workers.forEach((worker, k) => {
      const positions = sources.map((_, i) => i).filter((i) => i % threads === k);
      const job: AuditLogEnrichmentJob = {
        paths: positions.map((i) => sources[i]!.file!.path),
        positions,
        formats: options.readers.map((reader) => reader.format),
        ...(options.maxRecordBytes ? { maxRecordBytes: options.maxRecordBytes } : {}),
        index: options.index,
        usageRowsPerPiece: options.usageRowsPerPiece,
        postSlots: threads > 1,
      };
      worker.start(job);
    });
    for (let position = 0; position < sources.length; position++) {
      const worker = workers[position % threads]!;
      for (;;) {
        const message = await next(worker);
        if (message.type === 'done' || message.position !== position) {
          throw new Error('audit-log enrichment thread answered out of order');
        }
        if (message.type === 'end') {
          yield { type: 'part', part: message.part };
          break;
        }
        yield {
          type: 'batch',
          items: message.items,
          problems: message.problems,
          skipped: message.skipped,
          unauthorised: message.unauthorised,
          usage: message.usage ?? [],
          taken: message.usage ? () => worker.taken() : () => {},
        };
      }
    }
    const usage: UsageBatch[] = [];
    let usageRows = 0;
    const slots = new Set<string>();
    for (const worker of workers) {
      const message = await next(worker);
      if (message.type !== 'done') throw new Error('audit-log enrichment thread answered out of order');
      usage.push(...message.usage);
      // One worker's distinct rows are its own count; several workers may have seen the same slot.
      if (threads === 1) usageRows = message.slotCount;
      else for (const slot of message.slots ?? []) slots.add(slot);
    }
    yield { type: 'done', usage, usageRows: threads === 1 ? usageRows : slots.size };
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
  }
}
