// Worker threads that analyse registry files. Workers can be started before the file list is known: loading the
// analysis modules (zod above all) takes a worker ~0.4 s, which then overlaps the main thread's directory walk.
// Each worker takes one job, posts its analyses a chunk at a time, and exits.

import type { Worker } from 'node:worker_threads';
import { siblingModuleUrl, startModuleWorker } from '../runtime/module-worker.js';
import type { EntryAnalysis } from './entry-analysis.js';
import type { AnalysisJob } from './registry-analysis-job.js';
import type { AnalysisWorkerMessage } from './registry-analysis-worker.js';

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

  /** Splits `files` over the pool's workers (the first `threads` of them) and gathers the analyses in order. */
  async run(base: Omit<AnalysisJob, 'files'>, files: string[], threads: number): Promise<EntryAnalysis[]> {
    this.grow(threads);
    const results: EntryAnalysis[] = new Array(files.length);
    const size = Math.ceil(files.length / threads);
    const jobs: Promise<void>[] = [];
    for (let index = 0; index < threads && index * size < files.length; index++) {
      const offset = index * size;
      const job: AnalysisJob = { ...base, files: files.slice(offset, offset + size) };
      jobs.push(
        runOne(this.#workers[index]!, job, (start, analyses) => {
          for (let at = 0; at < analyses.length; at++) results[offset + start + at] = analyses[at]!;
        }),
      );
    }
    try {
      await Promise.all(jobs);
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
  job: AnalysisJob,
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
    worker.postMessage(job);
  });
}
