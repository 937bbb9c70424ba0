// Runs scan tasks on worker threads (one per core by default) or, for small scans where starting threads costs
// more than it saves, on the main thread. Callers await `run` and keep only a few tasks in flight per worker,
// which bounds memory on huge trees and histories.
import type { Worker } from 'node:worker_threads';
import { KeyledgerError } from '../../errors/keyledger-error.js';
import { siblingModuleUrl, startModuleWorker } from '../../runtime/module-worker.js';
import { ScanEngine } from '../engine/scan-engine.js';
import type { ScanTaskResult } from '../sources/file-scan-task.js';
import { runScanTask, type ScanTask, type ScanWorkerInit } from './scan-task.js';

interface Pending {
  resolve: (result: ScanTaskResult) => void;
  reject: (error: Error) => void;
}

interface WorkerSlot {
  worker: Worker;
  ready: Promise<void>;
  inFlight: number;
}

export class ScanWorkerPool {
  readonly size: number;
  readonly #slots: WorkerSlot[] = [];
  readonly #pending = new Map<number, Pending>();
  readonly #local: ScanEngine | undefined;
  readonly #init: ScanWorkerInit;
  #nextId = 1;
  #failure: Error | undefined;

  /** `threads` 0 runs everything on the calling thread. */
  constructor(init: ScanWorkerInit, threads: number) {
    this.#init = init;
    this.size = Math.max(1, threads);
    if (threads <= 0) {
      this.#local = new ScanEngine(init.ruleSet, init.engineOptions);
      return;
    }
    const url = siblingModuleUrl(import.meta.url, 'scan-worker');
    for (let i = 0; i < threads; i++) {
      const worker = startModuleWorker(url, { workerData: init });
      const ready = new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      });
      worker.on('message', (message: { id?: number; result?: ScanTaskResult; error?: string }) => {
        if (message.id === undefined) return;
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        const slot = this.#slots.find((candidate) => candidate.worker === worker);
        if (slot) slot.inFlight -= 1;
        if (message.error !== undefined) pending?.reject(new KeyledgerError('E_SCAN_WORKER', message.error));
        else if (message.result) pending?.resolve(message.result);
      });
      worker.on('error', (error) => this.#fail(error));
      worker.on('exit', (code) => {
        if (code !== 0) this.#fail(new KeyledgerError('E_SCAN_WORKER', `a scan worker exited with code ${code}`));
      });
      this.#slots.push({ worker, ready, inFlight: 0 });
    }
  }

  /** Tasks in flight across all workers (for back-pressure). */
  get inFlight(): number {
    return this.#slots.reduce((sum, slot) => sum + slot.inFlight, 0);
  }

  async run(task: ScanTask): Promise<ScanTaskResult> {
    if (this.#failure) throw this.#failure;
    if (this.#local) return runScanTask(this.#local, task, this.#init.maxFileBytes);
    const slot = this.#slots.reduce((best, candidate) => (candidate.inFlight < best.inFlight ? candidate : best));
    slot.inFlight += 1;
    await slot.ready;
    const id = this.#nextId++;
    return new Promise<ScanTaskResult>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (task.kind === 'patch') {
        // Hand the chunk's memory over instead of copying it (patch-chunker.ts gives each chunk memory of its own).
        slot.worker.postMessage({ id, task: { kind: 'patch', data: task.data, continued: task.continued === true } }, [
          task.data.buffer as ArrayBuffer,
        ]);
      } else {
        slot.worker.postMessage({ id, task });
      }
    });
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  async close(): Promise<void> {
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate()));
    this.#slots.length = 0;
  }
}
