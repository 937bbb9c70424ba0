// Reads audit-log files in worker threads (audit-log-read-worker.ts) and hands their items over in the order of
// the sources, as readAuditLogBatches does in one thread: decompressing, cutting, JSON.parse and the readers'
// mapping were most of an ingest's CPU, and the enrichment that follows must see the records in order (which
// record of a slot came first decides an anomaly's detail, src/audit/audit-log-enrichment.ts). Worker k reads
// sources k, k + W, k + 2W...; the main thread takes source i from worker i mod W, so each worker parses ahead of
// it by a bounded number of batches (IN_FLIGHT) while it enriches. Inputs a worker cannot open — standard input,
// a reader built from a mapping (json-lines) — and small inputs, where starting a worker costs more than it
// saves, are read in the calling thread. The ingest itself now enriches in its worker threads too
// (src/audit/threaded-audit-log-enrichment.ts), which share auditLogReadThreads and WorkerQueue from here.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { siblingModuleUrl, startModuleWorker } from '../runtime/module-worker.js';
import type { AuditLogSource } from './audit-log-input.js';
import type { AuditLogReadJob, AuditLogReadMessage } from './audit-log-read-worker.js';
import { auditLogReaderTable, isBuiltinAuditLogFormat } from './audit-log-reader-table.js';
import type { AuditLogItem } from './audit-log-record.js';
import { type ReadAuditLogsOptions, readAuditLogBatches } from './read-audit-logs.js';

export interface ThreadedReadOptions extends ReadAuditLogsOptions {
  /** Worker threads; default: one fewer than the machine's cores (at least one, at most 4), none for small inputs. */
  threads?: number;
}

/** Below this many bytes on disk (all sources together), the calling thread reads: a worker's start costs more. */
const THREADED_MIN_BYTES = 4 * 1024 * 1024;

/** How many worker threads `sources` would be read with (0: in the calling thread). */
export function auditLogReadThreads(sources: readonly AuditLogSource[], options: ThreadedReadOptions): number {
  const builtin = options.readers.every(
    (reader) => isBuiltinAuditLogFormat(reader.format) && auditLogReaderTable[reader.format] === reader,
  );
  if (!builtin || sources.length === 0 || sources.some((source) => !source.file)) return 0;
  if (options.threads !== undefined) return Math.max(0, Math.min(options.threads, sources.length));
  const bytes = sources.reduce((sum, source) => sum + source.file!.bytes, 0);
  if (bytes < THREADED_MIN_BYTES) return 0;
  return Math.min(sources.length, 4, Math.max(1, availableParallelism() - 1));
}

/** The items of every source, a batch at a time, in source order; read in worker threads where that pays. */
export async function* readAuditLogBatchesThreaded(
  sources: readonly AuditLogSource[],
  options: ThreadedReadOptions,
): AsyncGenerator<AuditLogItem[]> {
  const threads = auditLogReadThreads(sources, options);
  if (threads === 0) {
    yield* readAuditLogBatches(sources, options);
    return;
  }
  const url = siblingModuleUrl(import.meta.url, 'audit-log-read-worker');
  const workers = Array.from({ length: threads }, () => new WorkerQueue<AuditLogReadMessage>(startModuleWorker(url)));
  try {
    workers.forEach((worker, k) => {
      const positions = sources.map((_, i) => i).filter((i) => i % threads === k);
      const job: AuditLogReadJob = {
        paths: positions.map((i) => sources[i]!.file!.path),
        positions,
        formats: options.readers.map((reader) => reader.format),
        ...(options.maxRecordBytes ? { maxRecordBytes: options.maxRecordBytes } : {}),
      };
      worker.start(job);
    });
    for (let position = 0; position < sources.length; position++) {
      const worker = workers[position % threads]!;
      for (;;) {
        const message = await worker.next();
        if (message.type === 'failed') throw new Error(`audit-log reader thread failed: ${message.message}`);
        if (message.position !== position) throw new Error('audit-log reader thread answered out of order');
        if (message.type === 'end') break;
        worker.taken();
        yield message.items;
      }
    }
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
  }
}

/** A worker that threw, failed to start or exited, as its queue reports it. */
export interface WorkerFailed {
  type: 'failed';
  message: string;
}

/**
 * One worker's messages, queued until the reader takes them; a worker that fails or exits becomes a `failed`
 * message. Shared with the enrichment threads (src/audit/threaded-audit-log-enrichment.ts).
 */
export class WorkerQueue<Message> {
  readonly #worker: Worker;
  readonly #queue: Array<Message | WorkerFailed> = [];
  #waiting: ((message: Message | WorkerFailed) => void) | undefined;

  constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (message: Message) => this.#push(message));
    worker.on('error', (error: Error) => this.#push({ type: 'failed', message: error.message }));
    worker.on('exit', (code) => this.#push({ type: 'failed', message: `stopped (exit code ${code})` }));
  }

  start(job: unknown): void {
    this.#worker.postMessage({ type: 'job', job });
  }

  /** The next message, waiting for it if none is queued. */
  next(): Promise<Message | WorkerFailed> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  /** A batch was taken: the worker may post one more. */
  taken(): void {
    this.#worker.postMessage({ type: 'taken' });
  }

  async stop(): Promise<void> {
    this.#worker.removeAllListeners('exit');
    await this.#worker.terminate();
  }

  #push(message: Message | WorkerFailed): void {
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting(message);
    } else {
      this.#queue.push(message);
    }
  }
}
