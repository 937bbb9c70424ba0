// Worker threads that analyse registry files. Workers can be started before the file list is known: loading the
// analysis modules (zod above all) takes a worker ~0.3 s, which then overlaps the main thread's directory walk.
// All threads on a job claim chunks of its files from one shared counter; each worker posts its analyses a chunk
// at a time and exits when the files run out.
import type { Worker } from 'node:worker_threads';
import { siblingModuleUrl, startModuleWorker } from '../runtime/module-worker.js';
import type { EntryAnalysis } from './entry-analysis.js';
import { type AnalysisJob, analyseInChunks, sharedChunks } from './registry-analysis-job.js';
import type { AnalysisWorkerJob, AnalysisWorkerMessage } from './registry-analysis-worker.js';

export class AnalysisWorkerPool {
  readonly #workers: Worker[] = [];

  constructor(count: number) {
    this.grow(count);
  }

  get size(): number {
    return this.#workers.length;
  }

  grow(count: number): void {
    const url = siblingModuleUrl(import.meta.url, 'registry-analysis-worker');
    while (this.#workers.length < count) this.#workers.push(startModuleWorker(url));
  }

  /**
   * Analyses `files` on `workers` worker threads — and on the calling thread too when `useCallingThread` is set,
   * which blocks its event loop meanwhile (right for a CLI run; a server leaves it off) — and gathers the
   * analyses in file order. The pool's workers are stopped afterwards.
   */
  async run(job: AnalysisJob, options: { workers: number; useCallingThread: boolean }): Promise<EntryAnalysis[]> {
    this.grow(options.workers);
    const results: EntryAnalysis[] = new Array(job.files.length);
    const store = (start: number, analyses: EntryAnalysis[]) => {
      for (let at = 0; at < analyses.length; at++) results[start + at] = analyses[at]!;
    };
    const chunkCounter = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    try {
      const running = this.#workers
        .slice(0, options.workers)
        .map((worker) => runOne(worker, { job, chunkCounter }, store));
      if (options.useCallingThread) analyseInChunks(job, store, sharedChunks(chunkCounter));
      await Promise.all(running);
    } finally {
      await this.terminate();
    }
    return results;
  }

  async terminate(): Promise<void> {
    await Promise.all(this.#workers.splice(0).map((worker) => worker.terminate()));
  }
}

function runOne(
  worker: Worker,
  work: AnalysisWorkerJob,
  onChunk: (start: number, analyses: EntryAnalysis[]) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number) =>
      reject(new Error(`registry worker stopped (exit code ${code}) before it finished`));
    worker.on('message', (message: AnalysisWorkerMessage) => {
      if (message.type === 'chunk') return onChunk(message.start, message.analyses);
      worker.off('exit', onExit);
      if (message.type === 'done') resolve();
      else reject(new Error(`registry worker failed: ${message.message}`));
    });
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.postMessage(work);
  });
}
