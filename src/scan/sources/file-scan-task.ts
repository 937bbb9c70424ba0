// Reads and scans a batch of files: the unit of work a worker thread (or the main thread, for small scans)
// runs. Binary and oversized files are skipped with a note, as the issue asks, rather than silently.
import { closeSync, openSync, readSync } from 'node:fs';
import type { ScanEngine } from '../engine/scan-engine.js';
import type { RawFinding } from '../findings/raw-finding.js';

export interface FileToScan {
  /** The path as reported (relative to the scan root, joined to the root as the user wrote it). */
  path: string;
  absolute: string;
  size: number;
}

export interface ScanTaskResult {
  findings: RawFinding[];
  bytes: number;
  files: number;
  commits: number;
  skippedBinary: string[];
  skippedOversized: string[];
  unreadable: string[];
}

export function emptyTaskResult(): ScanTaskResult {
  return { findings: [], bytes: 0, files: 0, commits: 0, skippedBinary: [], skippedOversized: [], unreadable: [] };
}

/** Git's heuristic: a NUL byte in the first 8000 bytes means binary. */
export function looksBinary(data: Buffer): boolean {
  return data.subarray(0, 8000).indexOf(0) >= 0;
}

/**
 * Reads a whole file whose size the directory walk already knows: one open, reads into memory of that size,
 * one close (no fstat, no growing buffer). A file that grew since the walk is read to its end all the same.
 */
export function readKnownSizeFile(path: string, size: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    // One byte to spare, so the read that finds the end needs no bigger buffer.
    let data = Buffer.allocUnsafe(size + 1);
    let length = 0;
    for (;;) {
      if (length === data.length) {
        const grown = Buffer.allocUnsafe(data.length * 2);
        data.copy(grown, 0, 0, length);
        data = grown;
      }
      const read = readSync(fd, data, length, data.length - length, null);
      if (read === 0) break;
      length += read;
    }
    return data.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

export function scanFiles(engine: ScanEngine, files: FileToScan[], maxFileBytes: number): ScanTaskResult {
  const result = emptyTaskResult();
  for (const file of files) {
    if (maxFileBytes > 0 && file.size > maxFileBytes) {
      result.skippedOversized.push(file.path);
      continue;
    }
    let data: Buffer;
    try {
      // Synchronous reads: this runs in a worker thread, where blocking is free and the promise machinery
      // of fs/promises costs more than the read itself for the small files a source tree is made of.
      data = readKnownSizeFile(file.absolute, file.size);
    } catch {
      result.unreadable.push(file.path);
      continue;
    }
    if (looksBinary(data)) {
      result.skippedBinary.push(file.path);
      continue;
    }
    result.files += 1;
    result.bytes += data.length;
    for (const finding of engine.scan({ data, path: file.path })) result.findings.push(finding);
  }
  return result;
}
