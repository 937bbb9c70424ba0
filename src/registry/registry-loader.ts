// Loads a whole registry: finds the entry files, analyses them in parallel (worker threads on large registries),
// and checks what needs every file at once — the same key_id in two files.

import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { PeopleDirectory } from '../directory/people-directory.js';
import { AnalysisWorkerPool } from './analysis-worker-pool.js';
import type { EntryAnalysis } from './entry-analysis.js';
import { startFileStamping } from './file-stamp-worker.js';
import { type KeyEntry, unknownFields } from './key-entry-schema.js';
import { checkEntry, compilePolicy, severityOf } from './policy/policy-engine.js';
import type { PolicyContext } from './policy/policy-rules.js';
import { type AnalysisJob, analyseEntryFile, runAnalysisJob } from './registry-analysis-job.js';
import type { PolicyConfig, RegistryConfig } from './registry-config.js';
import { findEntryFiles } from './registry-files.js';
import { compareIssues, type RegistryIssue } from './registry-issue.js';
import {
  type CachedEntryFile,
  DEFAULT_RACY_WINDOW_MS,
  type FileStamp,
  readRegistryLoadCache,
  registryLoadCachePath,
  sameStamp,
  settledBefore,
  stampFile,
  writeRegistryLoadCache,
} from './registry-load-cache.js';
import { YamlLocator } from './yaml-position.js';

export interface LoadedEntry {
  file: string;
  entry: KeyEntry;
}

export interface RegistryLoadResult {
  root: string;
  files: string[];
  /** Entries that parsed (only when asked for with includeEntries). */
  entries: LoadedEntry[];
  /** key_id -> file, for every file whose key_id could be read. */
  keyIds: Map<string, string>;
  issues: RegistryIssue[];
  /** With the load cache on: files taken from it, files read and parsed, and whether the cache was rewritten. */
  cache?: { reused: number; parsed: number; written: boolean };
}

export interface RegistryLoadOptions {
  root: string;
  config: RegistryConfig;
  /** Apply the policy (validate) or read the schema only (list, show). */
  applyPolicy: boolean;
  includeEntries: boolean;
  now?: Date;
  people?: PeopleDirectory;
  /** Only these files are checked against the policy and reported on (validate --changed-since). */
  onlyFiles?: string[];
  /** Threads to use; default: the machine's parallelism, and inline for small registries. */
  threads?: number;
  /**
   * Count the calling thread among the threads (one worker fewer): it has the analysis modules loaded already,
   * but its event loop is blocked while it works. For command-line runs; a server leaves it off.
   */
  useCallingThread?: boolean;
  /**
   * Use the registry load cache (registry-load-cache.ts): only files changed since the last load are read and
   * parsed, and the cache is refreshed. `racyWindowMs` (default DEFAULT_RACY_WINDOW_MS) is for tests.
   */
  cache?: boolean | { racyWindowMs: number };
}

/** Below this many files, starting workers costs more than it saves. */
const INLINE_THRESHOLD = 2_000;

/** Bytes of git index per tracked file, at least (a 62-byte record plus the path); see likelyLarge. */
const GIT_INDEX_BYTES_PER_FILE = 80;

export async function loadRegistry(options: RegistryLoadOptions): Promise<RegistryLoadResult> {
  const parallelism = Math.min(availableParallelism(), 8);
  const callingThread = options.useCallingThread === true ? 1 : 0;
  const cachePath = options.cache ? registryLoadCachePath(options.root) : undefined;
  // Workers start before the walk when the registry will need them, so their start-up overlaps it — unless a load
  // cache is there, which usually leaves few files to parse.
  const expected =
    options.threads ??
    (likelyLarge(options.root) && !(cachePath !== undefined && existsSync(cachePath)) ? parallelism : 1);
  const early =
    expected - callingThread > 0 && expected > 1 ? new AnalysisWorkerPool(expected - callingThread) : undefined;
  let files: string[];
  let cached: CachedFiles | undefined;
  try {
    files = await findEntryFiles(options.root, options.config);
    if (cachePath) cached = await cachedFiles(options.root, files, cachePath);
  } catch (error) {
    await early?.terminate();
    throw error;
  }
  const nowMs = (options.now ?? new Date()).getTime();
  const toParse = cached ? files.filter((_, index) => cached!.hits[index] === undefined) : files;
  const threads = options.threads ?? (toParse.length < INLINE_THRESHOLD ? 1 : parallelism);
  const job: AnalysisJob = {
    root: options.root,
    files: toParse,
    nowMs,
    // Entries parsed now are what the cache keeps, whether or not the caller wants them.
    includeEntries: options.includeEntries || cached !== undefined,
    ...(options.applyPolicy ? { policy: options.config.policy } : {}),
    ...(options.onlyFiles ? { policyFiles: options.onlyFiles } : {}),
    ...(options.people ? { people: options.people.people() } : {}),
  };
  if (threads <= 1) await early?.terminate();
  const parsed =
    toParse.length === 0
      ? []
      : threads <= 1
        ? await runAnalysisJob(job)
        : await (early ?? new AnalysisWorkerPool(0)).run(job, {
            workers: threads - callingThread,
            useCallingThread: callingThread === 1,
          });
  if (toParse.length === 0) await early?.terminate();
  let analyses = parsed;
  let cacheReport: RegistryLoadResult['cache'];
  if (cached) {
    analyses = mergeCachedAnalyses(files, cached, parsed, options, nowMs);
    cacheReport = { reused: files.length - toParse.length, parsed: toParse.length, written: false };
    const racyWindowMs = typeof options.cache === 'object' ? options.cache.racyWindowMs : DEFAULT_RACY_WINDOW_MS;
    const records = refreshedRecords(files, cached, parsed, racyWindowMs);
    if (records.changed) cacheReport.written = await writeRegistryLoadCache(cachePath!, records.files);
    if (!options.includeEntries) analyses = analyses.map(withoutEntry);
  }

  const reported = options.onlyFiles ? new Set(options.onlyFiles) : undefined;
  const issues: RegistryIssue[] = [];
  const entries: LoadedEntry[] = [];
  const keyIds = new Map<string, string>();
  const duplicates = new Map<string, string[]>();
  for (const analysis of analyses) {
    if (!reported || reported.has(analysis.file)) issues.push(...analysis.issues);
    if (analysis.entry) entries.push({ file: analysis.file, entry: analysis.entry });
    if (analysis.keyId) {
      const first = keyIds.get(analysis.keyId);
      if (first === undefined) keyIds.set(analysis.keyId, analysis.file);
      else duplicates.set(analysis.keyId, [...(duplicates.get(analysis.keyId) ?? [first]), analysis.file]);
    }
  }
  if (duplicates.size > 0) {
    issues.push(...(await duplicateIssues(options.root, duplicates, options.config.policy, reported)));
  }
  issues.sort(compareIssues);
  return { root: options.root, files, entries, keyIds, issues, ...(cacheReport ? { cache: cacheReport } : {}) };
}

/** The load cache against the files found now: the stamp of each file and, where it is unchanged, its cached entry. */
interface CachedFiles {
  cache: Map<string, CachedEntryFile>;
  stamps: Array<FileStamp | undefined>;
  /** When the stamps were taken (before any file was read). */
  stampedAtMs: number;
  hits: Array<CachedEntryFile | undefined>;
}

async function cachedFiles(root: string, files: readonly string[], cachePath: string): Promise<CachedFiles> {
  // Stamped before anything is read: a file changed after its stamp is cached under the old stamp at worst, which
  // the next load sees differ.
  const stampedAtMs = Date.now();
  // A large registry is stamped by a worker thread while this one reads and parses the cache, then by both
  // (file-stamp-worker.ts); a small one here, first.
  const stamping = files.length >= INLINE_THRESHOLD ? startFileStamping(root, files) : undefined;
  const inline = stamping ? undefined : files.map((file) => stampFile(join(root, file)));
  const cache = readRegistryLoadCache(cachePath);
  const stamps = inline ?? (await stamping!.finish());
  const hits = files.map((file, index) => {
    const hit = cache.get(file);
    const stamp = stamps[index];
    return hit && stamp && sameStamp(hit.stamp, stamp) ? hit : undefined;
  });
  return { cache, stamps, stampedAtMs, hits };
}

/**
 * Every file's analysis in file order: the parsed ones as they came, the cached ones as a load without the cache
 * would give them. A cached entry carries no finding of its own (only clean entries are cached), so its analysis is
 * the policy's verdict; an entry the policy objects to is read and analysed again, for the positions.
 */
function mergeCachedAnalyses(
  files: readonly string[],
  cached: CachedFiles,
  parsed: readonly EntryAnalysis[],
  options: RegistryLoadOptions,
  nowMs: number,
): EntryAnalysis[] {
  let policy: PolicyContext | undefined;
  const policyFiles = options.onlyFiles ? new Set(options.onlyFiles) : undefined;
  const analyses: EntryAnalysis[] = new Array(files.length);
  let next = 0;
  for (let index = 0; index < files.length; index++) {
    const file = files[index]!;
    const hit = cached.hits[index];
    if (hit === undefined) {
      analyses[index] = parsed[next++]!;
      continue;
    }
    if (options.applyPolicy && (!policyFiles || policyFiles.has(file))) {
      policy ??= compilePolicy(options.config.policy, new Date(nowMs), options.people);
      if (checkEntry(hit.entry, policy).length > 0) {
        analyses[index] = analyseEntryFile(options.root, file, policy);
        continue;
      }
    }
    analyses[index] = { file, ...(hit.keyId !== undefined ? { keyId: hit.keyId } : {}), entry: hit.entry, issues: [] };
  }
  return analyses;
}

/**
 * The cache's next content: the cached files still unchanged, and the files parsed now whose entry parsing alone
 * found nothing to say about (no schema error, no unknown field) and which had settled when stamped.
 */
function refreshedRecords(
  files: readonly string[],
  cached: CachedFiles,
  parsed: readonly EntryAnalysis[],
  racyWindowMs: number,
): { files: CachedEntryFile[]; changed: boolean } {
  const records: CachedEntryFile[] = [];
  let reused = 0;
  let next = 0;
  for (let index = 0; index < files.length; index++) {
    const hit = cached.hits[index];
    if (hit !== undefined) {
      records.push(hit);
      reused += 1;
      continue;
    }
    const analysis = parsed[next++]!;
    const stamp = cached.stamps[index];
    if (
      analysis.entry === undefined ||
      stamp === undefined ||
      !settledBefore(stamp, cached.stampedAtMs, racyWindowMs) ||
      unknownFields(analysis.entry).length > 0 ||
      analysis.issues.some((issue) => PARSING_RULES.has(issue.rule))
    ) {
      continue;
    }
    records.push({
      file: files[index]!,
      stamp,
      ...(analysis.keyId !== undefined ? { keyId: analysis.keyId } : {}),
      entry: analysis.entry,
    });
  }
  return { files: records, changed: records.length !== reused || reused !== cached.cache.size };
}

/** Findings of reading and parsing a file (entry-analysis.ts), as opposed to the policy's. */
const PARSING_RULES = new Set(['io', 'yaml-syntax', 'schema', 'unknown-field']);

function withoutEntry(analysis: EntryAnalysis): EntryAnalysis {
  if (analysis.entry === undefined) return analysis;
  return {
    file: analysis.file,
    ...(analysis.keyId !== undefined ? { keyId: analysis.keyId } : {}),
    issues: analysis.issues,
  };
}

/**
 * Whether the registry at `root` is likely to reach the worker threshold, told without walking it: the size of
 * its git index (a registry is a git repository) grows with the number of tracked files. A guess wrong either way
 * costs little: workers started for nothing and stopped, or started after the walk.
 */
function likelyLarge(root: string): boolean {
  try {
    return statSync(join(root, '.git', 'index')).size >= INLINE_THRESHOLD * GIT_INDEX_BYTES_PER_FILE;
  } catch {
    return false;
  }
}

async function duplicateIssues(
  root: string,
  duplicates: Map<string, string[]>,
  policy: PolicyConfig,
  reported: Set<string> | undefined,
): Promise<RegistryIssue[]> {
  const severity = severityOf('duplicate-key-id', 'error', policy);
  if (severity === 'off') return [];
  const issues: RegistryIssue[] = [];
  for (const [keyId, files] of duplicates) {
    if (reported && !files.some((file) => reported.has(file))) continue;
    for (const file of files) {
      if (reported && !reported.has(file)) continue;
      const others = files.filter((other) => other !== file);
      const text = await readFile(join(root, file), 'utf8').catch(() => '');
      const { line, column } = new YamlLocator(text).locate(['key_id']);
      issues.push({
        severity,
        rule: 'duplicate-key-id',
        message: `key_id "${keyId}" is also defined in ${others.join(', ')}`,
        file,
        line,
        column,
        field: 'key_id',
        keyId,
      });
    }
  }
  return issues;
}
