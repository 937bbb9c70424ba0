// Starts a worker thread from a module that sits beside the caller. Under the compiled build the module is a .js
// file; under the test runner and tsx it is the .ts source, which the worker can load only with tsx's loader.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The URL of a sibling module, with the extension the caller itself was loaded with. */
export function siblingModuleUrl(callerUrl: string, baseName: string): URL {
  const extension = callerUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${baseName}${extension}`, callerUrl);
}

export function startModuleWorker(moduleUrl: URL, options: WorkerOptions = {}): Worker {
  const isTypeScript = moduleUrl.pathname.endsWith('.ts');
  const execArgv = isTypeScript ? ['--import', tsxLoaderUrl()] : [];
  return new Worker(moduleUrl, { ...options, execArgv: [...execArgv, ...(options.execArgv ?? [])] });
}

/** tsx's loader as an absolute URL: `--import tsx` would resolve against the working directory, not this project. */
function tsxLoaderUrl(): string {
  const require = createRequire(import.meta.url);
  return pathToFileURL(require.resolve('tsx')).href;
}
