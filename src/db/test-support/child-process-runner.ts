// Runs a TypeScript module of test-support in a separate Node process (through tsx), for tests that need real
// cross-process concurrency rather than promises in one event loop.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runTypeScriptChild(moduleUrl: URL, args: string[], timeoutMs = 30_000): Promise<ChildResult> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(moduleUrl), ...args],
      { timeout: timeoutMs, env: process.env },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}
