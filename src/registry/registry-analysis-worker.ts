// Worker thread body: waits for its job (the pool may start it before the file list is known), analyses the batch
// and posts the results back a chunk at a time (see analyseInChunks), then `done`.
import { parentPort } from 'node:worker_threads';
import type { EntryAnalysis } from './entry-analysis.js';
import { type AnalysisJob, analyseInChunks } from './registry-analysis-job.js';

export type AnalysisWorkerMessage =
  | { type: 'chunk'; start: number; analyses: EntryAnalysis[] }
  | { type: 'done' }
  | { type: 'failed'; message: string };

function post(message: AnalysisWorkerMessage): void {
  parentPort?.postMessage(message);
}

parentPort?.once('message', (job: AnalysisJob) => {
  try {
    analyseInChunks(job, (start, analyses) => post({ type: 'chunk', start, analyses }));
    post({ type: 'done' });
  } catch (error) {
    post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
});
