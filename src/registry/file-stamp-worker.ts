// The stamps (registry-load-cache.ts) of many files, taken by a worker thread and the calling thread together: a warm
// load of a large registry stats every entry file (0.35-0.6 s of one core on 100,000 files) and parses its load cache
// (0.5-0.8 s). A worker starts stamping at once, while the calling thread parses the cache; once the calling thread
// is done with that, it stamps what the worker has not reached, from the same shared counter, so it never waits for a
// worker that a busy machine gives no core to — at worst it stamps every file itself, as before
// (registry-loader.ts, cachedFiles). The worker is plain JavaScript evaluated from the text below — no module graph
// and no tsx to load, so it starts in ~20 ms where a module worker under tsx takes ~0.3 s
// (src/runtime/module-worker.ts) — and writes its stamps into shared memory.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type FileStamp, stampFile } from './registry-load-cache.js';

/** Numbers per file in the shared answer: size, mtimeMs, ctimeMs, ino. */
const FIELDS = 4;
/** Files claimed at a time, by either thread. */
const CHUNK = 256;
/** In the size slot: the path is there but is not a file, or is missing (stampFile's undefined). */
const NOT_A_FILE = -1;
/** In the size slot: stat failed otherwise (permissions…): the calling thread stamps the file again, and throws as stampFile does. */
const FAILED = -2;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { statSync } = require('node:fs');
const { join } = require('node:path');
parentPort.once('message', ({ root, files, out, next }) => {
  const stamps = new Float64Array(out);
  const claims = new Int32Array(next);
  for (;;) {
    const start = Atomics.add(claims, 0, ${CHUNK});
    if (start >= files.length) break;
    const end = Math.min(start + ${CHUNK}, files.length);
    for (let i = start; i < end; i++) {
      const at = i * ${FIELDS};
      let stat;
      try {
        stat = statSync(join(root, files[i]), { throwIfNoEntry: false });
      } catch {
        stamps[at] = ${FAILED};
        continue;
      }
      if (!stat || !stat.isFile()) {
        stamps[at] = ${NOT_A_FILE};
        continue;
      }
      stamps[at] = stat.size;
      stamps[at + 1] = stat.mtimeMs;
      stamps[at + 2] = stat.ctimeMs;
      stamps[at + 3] = stat.ino;
    }
    // Counts the chunk as done and publishes its writes to the thread that reads them after reading this count.
    Atomics.add(claims, 1, end - start);
  }
  parentPort.postMessage('done');
});
`;

export interface FileStamping {
  /** Stamps what the worker has not, waits for the worker's last files, and gives every file's stamp in order. */
  finish(): Promise<Array<FileStamp | undefined>>;
  /** How many files the worker has stamped so far. */
  stampedByWorker(): number;
}

/**
 * Starts stamping `files` (relative to `root`) in a worker thread; `finish()` completes the work on the calling thread.
 * Each stamp is what stampFile(join(root, file)) gives. Should the worker fail to start or die, the calling thread
 * stamps whatever it left.
 */
export function startFileStamping(root: string, files: readonly string[]): FileStamping {
  const out = new SharedArrayBuffer(files.length * FIELDS * Float64Array.BYTES_PER_ELEMENT);
  const stamps = new Float64Array(out);
  // [0]: the next file to claim; [1]: files the worker has stamped.
  const claims = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  let workerEnded: Promise<void> = Promise.resolve();
  if (files.length > 0) {
    try {
      // No execArgv: the parent's `--import tsx` (or any loader) is not needed by this source.
      const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
      workerEnded = new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.once('error', () => resolve());
        worker.once('exit', () => resolve());
      }).then(() => worker.terminate().then(() => undefined));
      worker.postMessage({ root, files, out, next: claims.buffer });
    } catch {
      // No worker: this thread stamps every file in finish().
    }
  }
  const stampHere = (index: number) => {
    try {
      writeStamp(stamps, index, stampFile(join(root, files[index]!)));
    } catch {
      // Stamped again below, in file order, where stampFile throws as it did without the worker.
      stamps[index * FIELDS] = FAILED;
    }
  };
  return {
    stampedByWorker: () => Atomics.load(claims, 1),
    async finish() {
      let stampedHere = 0;
      for (;;) {
        const start = Atomics.add(claims, 0, CHUNK);
        if (start >= files.length) break;
        const end = Math.min(start + CHUNK, files.length);
        for (let i = start; i < end; i++) stampHere(i);
        stampedHere += end - start;
      }
      // The worker's count, read atomically, makes its stamps visible here. Short of every file: the worker still
      // holds a chunk (256 files at most) — wait for it — or has died, and then every file is stamped here again,
      // since what a dead worker wrote last is not known to be whole.
      if (stampedHere + Atomics.load(claims, 1) < files.length) {
        await workerEnded;
        if (stampedHere + Atomics.load(claims, 1) < files.length) {
          for (let i = 0; i < files.length; i++) stampHere(i);
        }
      }
      const result: Array<FileStamp | undefined> = new Array(files.length);
      for (let i = 0; i < files.length; i++) {
        const at = i * FIELDS;
        const size = stamps[at]!;
        if (size === FAILED) result[i] = stampFile(join(root, files[i]!));
        else if (size === NOT_A_FILE) result[i] = undefined;
        else result[i] = { size, mtimeMs: stamps[at + 1]!, ctimeMs: stamps[at + 2]!, ino: stamps[at + 3]! };
      }
      return result;
    },
  };
}

function writeStamp(stamps: Float64Array, index: number, stamp: FileStamp | undefined): void {
  const at = index * FIELDS;
  if (stamp === undefined) {
    stamps[at] = NOT_A_FILE;
    return;
  }
  stamps[at] = stamp.size;
  stamps[at + 1] = stamp.mtimeMs;
  stamps[at + 2] = stamp.ctimeMs;
  stamps[at + 3] = stamp.ino;
}
