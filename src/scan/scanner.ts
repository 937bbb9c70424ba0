// The scanner's front door: scans a directory, a git history, the staged changes or a byte stream with a rule
// set, spreading the work over worker threads, and returns raw findings with what was scanned and skipped.
// Noise control (ignores, baselines), ownership and reporting are applied by the caller on the result.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { KeyledgerError, NotFoundError } from '../errors/keyledger-error.js';
import type { ScanEngineOptions } from './engine/scan-engine.js';
import type { RawFinding } from './findings/raw-finding.js';
import type { ScanRuleSet } from './rules/rule-definition.js';
import { walkDirectory } from './sources/directory-walker.js';
import type { FileToScan, ScanTaskResult } from './sources/file-scan-task.js';
import { GIT_LOG_FORMAT } from './sources/git-patch-parser.js';
import { PatchChunker } from './sources/patch-chunker.js';
import { ScanWorkerPool } from './workers/scan-worker-pool.js';

export interface ScanProgress {
  bytes: number;
  files: number;
  commits: number;
  findings: number;
}

export interface ScanOptions {
  ruleSet: ScanRuleSet;
  engine?: Partial<ScanEngineOptions>;
  /** Worker threads; 0 runs on the calling thread; undefined chooses by the size of the job. */
  threads?: number;
  /** Files (or one file's added lines in a commit) larger than this are skipped with a note; 0 = no limit. */
  maxFileBytes?: number;
  onProgress?: (progress: ScanProgress) => void;
}

export interface ScanOutcome {
  findings: RawFinding[];
  bytes: number;
  files: number;
  commits: number;
  skippedBinary: string[];
  skippedOversized: string[];
  unreadable: string[];
}

export const DEFAULT_MAX_FILE_BYTES = 25 * 1024 * 1024;
/** Below this much input, starting worker threads costs more than it saves. */
const SMALL_JOB_BYTES = 4 * 1024 * 1024;
const FILE_BATCH_BYTES = 1024 * 1024;
const FILE_BATCH_COUNT = 256;
const PATCH_CHUNK_BYTES = 2 * 1024 * 1024;

function defaultThreads(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}

class OutcomeCollector {
  readonly outcome: ScanOutcome = {
    findings: [],
    bytes: 0,
    files: 0,
    commits: 0,
    skippedBinary: [],
    skippedOversized: [],
    unreadable: [],
  };
  constructor(private readonly onProgress?: (progress: ScanProgress) => void) {}

  add(result: ScanTaskResult): void {
    const outcome = this.outcome;
    for (const finding of result.findings) outcome.findings.push(finding);
    outcome.bytes += result.bytes;
    outcome.files += result.files;
    outcome.commits += result.commits;
    outcome.skippedBinary.push(...result.skippedBinary);
    outcome.skippedOversized.push(...result.skippedOversized);
    outcome.unreadable.push(...result.unreadable);
    this.onProgress?.({
      bytes: outcome.bytes,
      files: outcome.files,
      commits: outcome.commits,
      findings: outcome.findings.length,
    });
  }
}

function poolFor(options: ScanOptions, threads: number): ScanWorkerPool {
  return new ScanWorkerPool(
    {
      ruleSet: options.ruleSet,
      engineOptions: options.engine ?? {},
      maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    },
    threads,
  );
}

/** Runs tasks with at most `limit` in flight, collecting results as they come back. */
async function drain(
  pool: ScanWorkerPool,
  tasks: AsyncIterable<Parameters<ScanWorkerPool['run']>[0]>,
  collector: OutcomeCollector,
): Promise<void> {
  const limit = pool.size * 2;
  const inFlight = new Set<Promise<void>>();
  for await (const task of tasks) {
    const running: Promise<void> = pool.run(task).then((result) => {
      collector.add(result);
      inFlight.delete(running);
    });
    inFlight.add(running);
    if (inFlight.size >= limit) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

/** Scans every file under a directory (or one file). */
export async function scanDirectory(
  path: string,
  options: ScanOptions & { cwd?: string; respectGitignore?: boolean; skipPaths?: string[] },
): Promise<ScanOutcome> {
  const root = resolve(options.cwd ?? process.cwd(), path);
  const walk = walkDirectory(root, path, {
    respectGitignore: options.respectGitignore ?? true,
    skip: new Set((options.skipPaths ?? []).map((skip) => resolve(options.cwd ?? process.cwd(), skip))),
  })[Symbol.asyncIterator]();
  const nextFile = async (): Promise<FileToScan | undefined> => {
    try {
      const next = await walk.next();
      return next.done ? undefined : next.value;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new NotFoundError('E_SCAN_SOURCE', `nothing to scan at ${path}: no such file or directory`);
      }
      throw error;
    }
  };
  // Walk only as far as it takes to tell a small job (scanned on this thread) from a big one (worker threads);
  // from then on files are handed out while the walk goes on, so the workers never wait for the whole tree.
  const head: FileToScan[] = [];
  let headBytes = 0;
  let walked = false;
  while (options.threads === undefined && headBytes < SMALL_JOB_BYTES) {
    const file = await nextFile();
    if (file === undefined) {
      walked = true;
      break;
    }
    head.push(file);
    headBytes += file.size;
  }
  const pool = poolFor(options, options.threads ?? (walked ? 0 : defaultThreads()));
  const collector = new OutcomeCollector(options.onProgress);
  async function* batches(): AsyncGenerator<{ kind: 'files'; files: FileToScan[] }> {
    let batch: FileToScan[] = [];
    let bytes = 0;
    let pending = 0;
    for (;;) {
      const file = pending < head.length ? head[pending++] : walked ? undefined : await nextFile();
      if (file === undefined) break;
      batch.push(file);
      bytes += file.size;
      if (bytes >= FILE_BATCH_BYTES || batch.length >= FILE_BATCH_COUNT) {
        yield { kind: 'files', files: batch };
        batch = [];
        bytes = 0;
      }
    }
    if (batch.length > 0) yield { kind: 'files', files: batch };
  }
  try {
    await drain(pool, batches(), collector);
  } finally {
    await pool.close();
  }
  return collector.outcome;
}

export interface GitHistoryOptions {
  /** Scan only commits after this revision (`REV..HEAD`). */
  since?: string;
  /** Every ref (branches, tags, remotes), not only HEAD. */
  all?: boolean;
  /** Show what merge commits introduced beyond their parents (`--remerge-diff`); default true. */
  mergeDiffs?: boolean;
  /** Extra arguments for `git log`, as gitleaks' --log-opts. */
  logOptions?: string[];
}

/** The `git log` arguments of a history scan. */
export function gitLogArguments(history: GitHistoryOptions): string[] {
  const args = [
    '-c',
    'core.quotePath=false',
    'log',
    '-p',
    '-U0',
    '--no-color',
    '--no-ext-diff',
    '--no-textconv',
    '-M',
    '--full-history',
    '--diff-filter=tuxdb',
    GIT_LOG_FORMAT,
  ];
  if (history.mergeDiffs ?? true) args.push('--remerge-diff');
  args.push(...(history.logOptions ?? []));
  if (history.all) args.push('--all');
  else if (history.since) args.push(`${history.since}..HEAD`);
  return args;
}

/** Streams `git` output, yielding chunks cut at commit (or, inside a large commit, file) boundaries. */
async function* gitRecords(
  repo: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): AsyncGenerator<{ kind: 'patch'; data: Uint8Array; continued: boolean }> {
  const child = spawn('git', args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr += text;
  });
  const exited = new Promise<number>((resolveExit, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolveExit(code ?? 1));
  });
  const chunker = new PatchChunker(PATCH_CHUNK_BYTES);
  for await (const read of child.stdout as AsyncIterable<Buffer>) {
    for (const chunk of chunker.push(read)) yield { kind: 'patch', ...chunk };
  }
  const last = chunker.end();
  if (last) yield { kind: 'patch', ...last };
  const code = await exited;
  if (code !== 0) {
    throw new KeyledgerError(
      'E_SCAN_GIT',
      `git ${args.includes('diff') ? 'diff' : 'log'} failed in ${repo}: ${stderr.trim().split('\n')[0] ?? ''}`,
      {
        category: 'external',
      },
    );
  }
}

async function gitOutput(repo: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  if (!existsSync(repo)) throw new NotFoundError('E_SCAN_SOURCE', `${repo} is not a git repository: no such directory`);
  const child = spawn('git', args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    out += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    err += text;
  });
  const code = await new Promise<number>((resolveExit, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode) => resolveExit(exitCode ?? 1));
  });
  if (code !== 0) {
    throw new NotFoundError(
      'E_SCAN_GIT',
      `${repo} is not a git repository or the revision is unknown: ${err.trim().split('\n')[0] ?? ''}`,
    );
  }
  return out.trim();
}

/** Scans the history of a git repository: every line added by every commit in range. */
export async function scanGitHistory(
  repo: string,
  history: GitHistoryOptions,
  options: ScanOptions & { env?: NodeJS.ProcessEnv },
): Promise<ScanOutcome> {
  const env = options.env ?? process.env;
  const range = history.all ? ['--all'] : [history.since ? `${history.since}..HEAD` : 'HEAD'];
  const count = Number(await gitOutput(repo, ['rev-list', '--count', ...range], env));
  const threads = options.threads ?? (count < 200 ? 0 : defaultThreads());
  const pool = poolFor(options, threads);
  const collector = new OutcomeCollector(options.onProgress);
  try {
    await drain(pool, gitRecords(repo, gitLogArguments(history), env), collector);
  } finally {
    await pool.close();
  }
  return collector.outcome;
}

/** Scans the changes staged for the next commit (the pre-commit mode). */
export async function scanStaged(
  repo: string,
  options: ScanOptions & { env?: NodeJS.ProcessEnv },
): Promise<ScanOutcome> {
  const env = options.env ?? process.env;
  await gitOutput(repo, ['rev-parse', '--git-dir'], env);
  const pool = poolFor(options, options.threads ?? 0);
  const collector = new OutcomeCollector(options.onProgress);
  const args = [
    '-c',
    'core.quotePath=false',
    'diff',
    '--cached',
    '-U0',
    '--no-color',
    '--no-ext-diff',
    '-M',
    '--diff-filter=ACMR',
  ];
  try {
    await drain(pool, gitRecords(repo, args, env), collector);
  } finally {
    await pool.close();
  }
  return collector.outcome;
}

/** Scans bytes read from a stream (stdin), reported under `path` (gitleaks reports stdin findings without one). */
export async function scanStream(
  stream: NodeJS.ReadableStream,
  options: ScanOptions & { path?: string },
): Promise<ScanOutcome> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  const { ScanEngine } = await import('./engine/scan-engine.js');
  const engine = new ScanEngine(options.ruleSet, options.engine ?? {});
  const data = Buffer.concat(chunks);
  const findings = engine.scan({ data, path: options.path ?? '' });
  return {
    findings,
    bytes: data.length,
    files: 1,
    commits: 0,
    skippedBinary: [],
    skippedOversized: [],
    unreadable: [],
  };
}
