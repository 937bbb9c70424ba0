// Worker-thread entry: compiles the rule set once, then runs the scan tasks the pool sends, one at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { ScanEngine } from '../engine/scan-engine.js';
import { runScanTask, type ScanTask, type ScanWorkerInit } from './scan-task.js';

const init = workerData as ScanWorkerInit;
const engine = new ScanEngine(init.ruleSet, init.engineOptions);

parentPort?.on('message', (message: { id: number; task: ScanTask }) => {
  try {
    const result = runScanTask(engine, message.task, init.maxFileBytes);
    parentPort?.postMessage({ id: message.id, result });
  } catch (error) {
    parentPort?.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
parentPort?.postMessage({ ready: true });
