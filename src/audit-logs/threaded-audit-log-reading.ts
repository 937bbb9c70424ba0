// What the ingest's worker threads (src/audit/threaded-audit-log-enrichment.ts) share with the audit-log readers:
// how many threads an input is read with, and a worker's message queue. Decompressing, cutting, JSON.parse and the
// readers' mapping are most of an ingest's CPU, so large inputs of the built-in formats are read (and enriched) in
// worker threads; inputs a worker cannot open — standard input, a reader built from a mapping (json-lines) — and
// small inputs, where starting a worker costs more than it saves, are read in the calling thread.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { AuditLogSource } from './audit-log-input.js';
import { auditLogReaderTable, isBuiltinAuditLogFormat } from './audit-log-reader-table.js';
import type { ReadAuditLogsOptions } from './read-audit-logs.js';

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
