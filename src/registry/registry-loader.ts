// Loads a whole registry: finds the entry files, analyses them in parallel (worker threads on large registries),
// and checks what needs every file at once — the same key_id in two files.

import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { PeopleDirectory } from '../directory/people-directory.js';
import { AnalysisWorkerPool } from './analysis-worker-pool.js';
import type { KeyEntry } from './key-entry-schema.js';
import { severityOf } from './policy/policy-engine.js';
import { type AnalysisJob, runAnalysisJob } from './registry-analysis-job.js';
import type { PolicyConfig, RegistryConfig } from './registry-config.js';
import { findEntryFiles } from './registry-files.js';
import { compareIssues, type RegistryIssue } from './registry-issue.js';
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
}

/** Below this many files, starting workers costs more than it saves. */
const INLINE_THRESHOLD = 2_000;

/** Bytes of git index per tracked file, at least (a 62-byte record plus the path); see likelyLarge. */
const GIT_INDEX_BYTES_PER_FILE = 80;

export async function loadRegistry(options: RegistryLoadOptions): Promise<RegistryLoadResult> {
  const parallelism = Math.min(availableParallelism(), 8);
  const callingThread = options.useCallingThread === true ? 1 : 0;
  // Workers start before the walk when the registry will need them, so their start-up overlaps it.
  const expected = options.threads ?? (likelyLarge(options.root) ? parallelism : 1);
  const early =
    expected - callingThread > 0 && expected > 1 ? new AnalysisWorkerPool(expected - callingThread) : undefined;
  let files: string[];
  try {
    files = await findEntryFiles(options.root, options.config);
  } catch (error) {
    await early?.terminate();
    throw error;
  }
  const threads = options.threads ?? (files.length < INLINE_THRESHOLD ? 1 : parallelism);
  const job: AnalysisJob = {
    root: options.root,
    files,
    nowMs: (options.now ?? new Date()).getTime(),
    includeEntries: options.includeEntries,
    ...(options.applyPolicy ? { policy: options.config.policy } : {}),
    ...(options.onlyFiles ? { policyFiles: options.onlyFiles } : {}),
    ...(options.people ? { people: options.people.people() } : {}),
  };
  if (threads <= 1) await early?.terminate();
  const analyses =
    threads <= 1
      ? await runAnalysisJob(job)
      : await (early ?? new AnalysisWorkerPool(0)).run(job, {
          workers: threads - callingThread,
          useCallingThread: callingThread === 1,
        });

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
  return { root: options.root, files, entries, keyIds, issues };
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
