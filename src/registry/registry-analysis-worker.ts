// Worker thread body: waits for its job (the pool may start it before the file list is known), analyses the chunks
// of it that it claims and posts the results back a chunk at a time (see analyseInChunks), then `done`.
import { parentPort } from 'node:worker_threads';
import type { EntryAnalysis } from './entry-analysis.js';
import { type AnalysisJob, analyseInChunks, sharedChunks } from './registry-analysis-job.js';

/** A job for a worker: the whole file list, and the counter the threads claim chunks of it from. */
export interface AnalysisWorkerJob {
  job: AnalysisJob;
  chunkCounter: Int32Array;
}

export type AnalysisWorkerMessage =
  | { type: 'chunk'; start: number; analyses: EntryAnalysis[] }
  | { type: 'done' }
  | { type: 'failed'; message: string };

function post(message: AnalysisWorkerMessage): void {
  parentPort?.postMessage(message);
}

parentPort?.once('message', ({ job, chunkCounter }: AnalysisWorkerJob) => {
  try {
    analyseInChunks(job, (start, analyses) => post({ type: 'chunk', start, analyses }), sharedChunks(chunkCounter));
    post({ type: 'done' });
  } catch (error) {
    post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
});
