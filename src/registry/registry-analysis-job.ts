// One batch of registry files analysed in one thread: what a validation worker receives and returns. Kept
// serialisable (no class instances), so the same code runs inline and in workers.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { PeopleDirectory, type Person } from '../directory/people-directory.js';
import { analyzeEntryText, type EntryAnalysis } from './entry-analysis.js';
import { compilePolicy } from './policy/policy-engine.js';
import type { PolicyContext } from './policy/policy-rules.js';
import type { PolicyConfig } from './registry-config.js';

export interface AnalysisJob {
  root: string;
  files: string[];
  /** Omitted: schema only. */
  policy?: PolicyConfig;
  /** Files to apply the policy to; all when omitted. */
  policyFiles?: string[];
  nowMs: number;
  people?: Person[];
  /** Send the parsed entries back (list, show) or only the key ids and issues (validate). */
  includeEntries: boolean;
}

/**
 * Analyses a batch. Reads are synchronous on purpose: this runs in a worker thread (or on a small registry), and
 * promise-based reads spent more time opening, stat-ing and closing file handles than parsing the files. Files
 * are read a chunk at a time and then analysed: on these machines every system call costs the caches and TLB
 * their contents, and alternating one read with one parse made the parsing half again slower (100,000 entries
 * on 2 threads: 4.5 s read-parse-read-parse, 2.5 s in chunks of 256).
 */
export async function runAnalysisJob(job: AnalysisJob): Promise<EntryAnalysis[]> {
  const results: EntryAnalysis[] = new Array(job.files.length);
  analyseInChunks(job, (start, chunk) => {
    for (let offset = 0; offset < chunk.length; offset++) results[start + offset] = chunk[offset]!;
  });
  return results;
}

/**
 * The same analysis, handed over a chunk at a time (`start` is the index in `job.files` of the chunk's first
 * file). A worker posts each chunk as it is done, so its heap never holds the analyses of all its files: kept to
 * the end, 50,000 small results (and the file texts their strings are sliced from) made every garbage
 * collection copy them, a quarter of a worker's time.
 */
export function analyseInChunks(
  job: AnalysisJob,
  onChunk: (start: number, chunk: EntryAnalysis[]) => void,
  claimChunk: ChunkClaimer = sequentialChunks(),
): void {
  const context = job.policy
    ? compilePolicy(job.policy, new Date(job.nowMs), job.people ? new PeopleDirectory(job.people) : undefined)
    : undefined;
  const policyFiles = job.policyFiles ? new Set(job.policyFiles) : undefined;
  const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  const texts: (string | Error)[] = new Array(READ_CHUNK_FILES);
  for (;;) {
    const chunkStart = claimChunk() * READ_CHUNK_FILES;
    if (chunkStart >= job.files.length) break;
    const chunkEnd = Math.min(chunkStart + READ_CHUNK_FILES, job.files.length);
    for (let index = chunkStart; index < chunkEnd; index++) {
      try {
        texts[index - chunkStart] = readSmallTextFile(join(job.root, job.files[index]!), buffer);
      } catch (error) {
        texts[index - chunkStart] = error as Error;
      }
    }
    const chunk: EntryAnalysis[] = new Array(chunkEnd - chunkStart);
    for (let index = chunkStart; index < chunkEnd; index++) {
      const file = job.files[index]!;
      const text = texts[index - chunkStart]!;
      if (text instanceof Error) {
        chunk[index - chunkStart] = unreadable(file, text);
        continue;
      }
      const usePolicy = context && (!policyFiles || policyFiles.has(file)) ? context : undefined;
      const analysis = analyzeEntryText(file, text, usePolicy);
      chunk[index - chunkStart] = job.includeEntries
        ? analysis
        : { file, ...(analysis.keyId !== undefined ? { keyId: analysis.keyId } : {}), issues: analysis.issues };
    }
    onChunk(chunkStart, chunk);
  }
}

/**
 * One file analysed on its own, as analyseInChunks does it: for a file the registry load cache holds whose entry
 * breaks the policy, which needs the text for positions (registry-loader.ts).
 */
export function analyseEntryFile(root: string, file: string, policy: PolicyContext | undefined): EntryAnalysis {
  let text: string;
  try {
    text = readFileSync(join(root, file), 'utf8');
  } catch (error) {
    return unreadable(file, error as Error);
  }
  return analyzeEntryText(file, text, policy);
}

function unreadable(file: string, error: Error): EntryAnalysis {
  return { file, issues: [{ severity: 'error', rule: 'io', message: `cannot read: ${error.message}`, file }] };
}

/** Hands out chunk numbers (0, 1, 2...) to the threads analysing one job's files. */
export type ChunkClaimer = () => number;

export function sequentialChunks(): ChunkClaimer {
  let next = 0;
  return () => next++;
}

/**
 * Chunks claimed from a counter shared by every thread on the job (a SharedArrayBuffer): a thread that runs
 * faster — the one that started first, or got the quieter core — takes more chunks, and all finish together.
 */
export function sharedChunks(counter: Int32Array): ChunkClaimer {
  return () => Atomics.add(counter, 0, 1);
}

/** Files read before they are analysed; see runAnalysisJob. */
const READ_CHUNK_FILES = 256;

/** Registry entries are a few hundred bytes; a larger file is read whole the ordinary way. */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * Reads a file as UTF-8 with three system calls (open, read, close) into a reused buffer. `readFileSync` also
 * stats the file and reads again to find the end: on 100,000 files that is a third of the reading time, and
 * system calls are dear on these virtual machines.
 */
function readSmallTextFile(path: string, buffer: Buffer): string {
  const fd = openSync(path, 'r');
  let length: number;
  try {
    length = readSync(fd, buffer, 0, buffer.length, 0);
  } finally {
    closeSync(fd);
  }
  // A full buffer may mean more to read: fall back to reading the whole file.
  return length < buffer.length ? buffer.toString('utf8', 0, length) : readFileSync(path, 'utf8');
}
