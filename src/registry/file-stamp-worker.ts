// The stamps (registry-load-cache.ts) of many files, taken in a worker thread: a warm load of a large registry stats
// every entry file (0.35-0.6 s of one core on 100,000 files) and parses its load cache (0.5-0.8 s), and with the
// stat in a worker the two run side by side instead of one after the other (registry-loader.ts, cachedFiles). The
// worker is plain JavaScript evaluated from the text below — no module graph and no tsx to load, so it starts in
// ~20 ms where a module worker under tsx takes ~0.3 s (src/runtime/module-worker.ts). Its answer is one
// Float64Array, moved to this thread rather than copied.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type FileStamp, stampFile } from './registry-load-cache.js';

/** Numbers per file in the worker's answer: size, mtimeMs, ctimeMs, ino. */
const FIELDS = 4;
/** In the size slot: the path is there but is not a file, or is missing (stampFile's undefined). */
const NOT_A_FILE = -1;
/** In the size slot: stat failed otherwise (permissions…): the calling thread stamps the file again, and throws as stampFile does. */
const FAILED = -2;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { statSync } = require('node:fs');
const { join } = require('node:path');
parentPort.once('message', ({ root, files }) => {
  const out = new Float64Array(files.length * ${FIELDS});
  for (let i = 0; i < files.length; i++) {
    const at = i * ${FIELDS};
    let stat;
    try {
      stat = statSync(join(root, files[i]), { throwIfNoEntry: false });
    } catch {
      out[at] = ${FAILED};
      continue;
    }
    if (!stat || !stat.isFile()) {
      out[at] = ${NOT_A_FILE};
      continue;
    }
    out[at] = stat.size;
    out[at + 1] = stat.mtimeMs;
    out[at + 2] = stat.ctimeMs;
    out[at + 3] = stat.ino;
  }
  parentPort.postMessage(out, [out.buffer]);
});
`;

/**
 * Stamps `files` (relative to `root`) in a worker thread; each is what stampFile(join(root, file)) gives. The promise
 * settles once the worker has answered, and the worker is stopped then. Should the worker fail (it could not start,
 * or died), the files are stamped on the calling thread instead.
 */
export function stampFilesInWorker(root: string, files: readonly string[]): Promise<Array<FileStamp | undefined>> {
  return new Promise<Float64Array>((resolve, reject) => {
    // No execArgv: the parent's `--import tsx` (or any loader) is not needed by this source.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    worker.once('message', (out: Float64Array) => {
      resolve(out);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`file stamp worker exited with code ${code}`)));
    worker.postMessage({ root, files });
  }).then(
    (out) => {
      const stamps: Array<FileStamp | undefined> = new Array(files.length);
      for (let i = 0; i < files.length; i++) {
        const at = i * FIELDS;
        const size = out[at]!;
        if (size === NOT_A_FILE) stamps[i] = undefined;
        else if (size === FAILED) stamps[i] = stampFile(join(root, files[i]!));
        else stamps[i] = { size, mtimeMs: out[at + 1]!, ctimeMs: out[at + 2]!, ino: out[at + 3]! };
      }
      return stamps;
    },
    () => files.map((file) => stampFile(join(root, file))),
  );
}
