// Starts a worker thread from a module that sits beside the caller. Under the compiled build the module is a .js
// file; under the test runner and tsx it is the .ts source, which a worker can load only after registering tsx's
// loader inside itself (on Node 20 loader hooks do not pass from the parent thread to its workers).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The URL of a sibling module, with the extension the caller itself was loaded with. */
export function siblingModuleUrl(callerUrl: string, baseName: string): URL {
  const extension = callerUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${baseName}${extension}`, callerUrl);
}

export function startModuleWorker(moduleUrl: URL, options: WorkerOptions = {}): Worker {
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl, options);
  const bootstrap = `
    import(${JSON.stringify(tsxApiUrl())})
      .then((tsx) => { tsx.register(); return import(${JSON.stringify(moduleUrl.href)}); })
      .catch((error) => { setImmediate(() => { throw error; }); });
  `;
  return new Worker(bootstrap, { ...options, eval: true });
}

/** tsx's ESM API as an absolute URL, resolved from this project rather than the working directory. */
function tsxApiUrl(): string {
  // require.resolve picks the `require` condition (index.cjs); the ESM API sits beside it as index.mjs.
  const require = createRequire(import.meta.url);
  return pathToFileURL(require.resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
}
