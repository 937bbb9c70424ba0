// Runs Debian's `promtool` (package `prometheus`) for the metrics and rules tests. A missing promtool fails the
// test with how to install it: the checks are part of `npm test`, never skipped (`npm test`'s pretest,
// scripts/ensure-test-tools.mjs, installs it where it is missing).
import { execFile, spawnSync } from 'node:child_process';

export interface PromtoolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const PROMTOOL_MISSING =
  'promtool is not installed: it ships in Debian\'s "prometheus" package (`sudo apt-get install -y prometheus`), or take the promtool binary from a Prometheus release tarball (https://prometheus.io/download/) and put it on PATH';

export function requirePromtool(): void {
  const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) throw new Error(PROMTOOL_MISSING);
}

export function promtool(args: readonly string[], input?: string, cwd?: string): Promise<PromtoolResult> {
  requirePromtool();
  return new Promise((resolve) => {
    const child = execFile(
      'promtool',
      [...args],
      { maxBuffer: 64 * 1024 * 1024, ...(cwd ? { cwd } : {}) },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}
