// Worker thread body: analyses the batch of registry files it is given and posts the results back.
import { parentPort, workerData } from 'node:worker_threads';
import { type AnalysisJob, runAnalysisJob } from './registry-analysis-job.js';

runAnalysisJob(workerData as AnalysisJob).then(
  (results) => parentPort?.postMessage({ ok: true, results }),
  (error: unknown) =>
    parentPort?.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) }),
);
