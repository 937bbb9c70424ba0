// The registry load cache: each entry file's parsed entry, remembered with the file's stat (size, mtime, ctime,
// inode), so that the next load (validate, list, discover, audit, the server's refresh) re-reads and re-parses only
// the files that changed (registry-loader.ts). Only what parsing alone decides is kept — a well-formed entry with no
// unknown field; the policy is applied afresh on every load, and files with any schema finding are always re-read,
// so a load from the cache reports exactly what a load without it does. The cache is an optimisation, never a
// source of truth: a cache that is missing, unreadable, truncated, fails its checksum or was written by other code
// is ignored (the files are read), and failing to write one fails nothing.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { KeyEntry } from './key-entry-schema.js';

/** What a file looked like when it was read: any change to its content changes one of these. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
  /** Set by the kernel on every change (unlike mtime, which tools such as `touch -d` or `tar` set back). */
  ctimeMs: number;
  ino: number;
}

export interface CachedEntryFile {
  file: string;
  stamp: FileStamp;
  keyId?: string;
  entry: KeyEntry;
}

/**
 * Files changed this close (ms) to the moment they were stamped are not cached: a second change within the file
 * system's timestamp granularity (a jiffy on Linux, 2 s on FAT) could leave size and times as they were.
 */
export const DEFAULT_RACY_WINDOW_MS = 2_000;

const MAGIC = 'keyledger-registry-load-cache';
const FORMAT = 1;

/**
 * Where a registry's load cache lives: inside its git directory (`.git/keyledger/`, never tracked, never walked),
 * following a `.git` file to a worktree's git directory; in the registry's data folder `.keyledger/` (git-ignored
 * by `keyledger init`) when the registry is not the top of a git work tree.
 */
export function registryLoadCachePath(root: string): string {
  const dotGit = join(root, '.git');
  try {
    const stat = statSync(dotGit);
    if (stat.isDirectory()) return join(dotGit, 'keyledger', 'registry-load-cache');
    if (stat.isFile()) {
      const match = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, 'utf8'));
      if (match) {
        const gitDir = isAbsolute(match[1]!) ? match[1]! : resolve(root, match[1]!);
        return join(gitDir, 'keyledger', 'registry-load-cache');
      }
    }
  } catch {
    // No .git: not the top of a work tree.
  }
  return join(root, '.keyledger', 'registry-load-cache');
}

/** The stamp of a file now; undefined when it cannot be stat-ed (the load then reads it and reports why). */
export function stampFile(path: string): FileStamp | undefined {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat?.isFile()) return undefined;
  return { size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino };
}

export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

/** Whether a file stamped at `stampedAtMs` had settled long enough before to be cached (DEFAULT_RACY_WINDOW_MS). */
export function settledBefore(stamp: FileStamp, stampedAtMs: number, racyWindowMs: number): boolean {
  return Math.max(stamp.mtimeMs, stamp.ctimeMs) < stampedAtMs - racyWindowMs;
}

/**
 * The cached files by path; empty when there is no usable cache. Never throws: whatever is wrong with the cache
 * file, the answer is "nothing cached" and the load reads every file. Read in one synchronous call: its contents are
 * parsed at once, and an asynchronous read of 64 MB goes in 512 KiB pieces, each waiting for the event loop (a
 * 100,000-entry cache: ~0.03 s read at once; on a loaded machine up to 0.5 s more in pieces; docs/audit.md,
 * "Performance").
 */
export function readRegistryLoadCache(path: string): Map<string, CachedEntryFile> {
  const cached = new Map<string, CachedEntryFile>();
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return cached;
  }
  try {
    const newline = bytes.indexOf(10);
    if (newline < 0) return cached;
    const [magic, format, code, checksum, count] = bytes.toString('utf8', 0, newline).split(' ');
    if (magic !== MAGIC || format !== String(FORMAT) || code !== analysisCodeFingerprint()) return cached;
    const body = bytes.subarray(newline + 1);
    if (createHash('sha256').update(body).digest('hex') !== checksum) return cached;
    const records: unknown = JSON.parse(body.toString('utf8'));
    if (!Array.isArray(records) || records.length !== Number(count)) return cached;
    for (const record of records) {
      const file = toCachedFile(record);
      if (!file) {
        cached.clear();
        return cached;
      }
      cached.set(file.file, file);
    }
  } catch {
    cached.clear();
  }
  return cached;
}

/**
 * Replaces the cache with `files` (write a temporary file beside it, then rename, so a reader sees the old cache or
 * the new, never half). A failure (read-only checkout, full disk) is swallowed: the next load reads the files.
 */
export async function writeRegistryLoadCache(path: string, files: readonly CachedEntryFile[]): Promise<boolean> {
  const records = files.map(({ file, stamp, keyId, entry }) => [
    file,
    stamp.size,
    stamp.mtimeMs,
    stamp.ctimeMs,
    stamp.ino,
    keyId ?? null,
    entry,
  ]);
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const body = Buffer.from(JSON.stringify(records), 'utf8');
    const checksum = createHash('sha256').update(body).digest('hex');
    const header = Buffer.from(`${MAGIC} ${FORMAT} ${analysisCodeFingerprint()} ${checksum} ${records.length}\n`);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temporary, Buffer.concat([header, body]), { mode: 0o600 });
    await rename(temporary, path);
    return true;
  } catch {
    await unlink(temporary).catch(() => undefined);
    return false;
  }
}

function toCachedFile(record: unknown): CachedEntryFile | undefined {
  if (!Array.isArray(record) || record.length !== 7) return undefined;
  const [file, size, mtimeMs, ctimeMs, ino, keyId, entry] = record as unknown[];
  if (
    typeof file !== 'string' ||
    typeof size !== 'number' ||
    typeof mtimeMs !== 'number' ||
    typeof ctimeMs !== 'number' ||
    typeof ino !== 'number' ||
    (keyId !== null && typeof keyId !== 'string') ||
    typeof entry !== 'object' ||
    entry === null ||
    typeof (entry as { key_id?: unknown }).key_id !== 'string'
  ) {
    return undefined;
  }
  return {
    file,
    stamp: { size, mtimeMs, ctimeMs, ino },
    ...(keyId !== null ? { keyId } : {}),
    entry: entry as KeyEntry,
  };
}

/**
 * The modules whose code decides what a file parses to, and the libraries they lean on: a cache written by other
 * code (an upgrade, a changed schema) is not used. Their sources are hashed once per process.
 */
const ANALYSIS_MODULES = [
  './entry-analysis',
  './key-entry-schema',
  './block-yaml-reader',
  './zod-fast-parse',
  './registry-dates',
  '../secrets/secret-fingerprint',
];
const ANALYSIS_LIBRARIES = ['zod', 'js-yaml'];

let fingerprint: string | undefined;

export function analysisCodeFingerprint(): string {
  if (fingerprint !== undefined) return fingerprint;
  const hash = createHash('sha256').update(`${FORMAT}\0${process.version}\0`);
  // The extension this module was loaded with: .ts under tsx and the test runner, .js when built.
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  for (const module of ANALYSIS_MODULES) {
    hash.update(readFileSync(new URL(`${module}${extension}`, import.meta.url)));
  }
  const require = createRequire(import.meta.url);
  for (const library of ANALYSIS_LIBRARIES) {
    hash.update(`\0${library}@${(require(`${library}/package.json`) as { version: string }).version}`);
  }
  fingerprint = hash.digest('hex').slice(0, 32);
  return fingerprint;
}
