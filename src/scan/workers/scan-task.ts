// The work a scan hands out, in one shape for worker threads and for the main thread: a batch of files to read,
// or a chunk of `git log -p` output holding whole commit records.
import type { ScanEngine, ScanEngineOptions } from '../engine/scan-engine.js';
import type { ScanRuleSet } from '../rules/rule-definition.js';
import { emptyTaskResult, type FileToScan, type ScanTaskResult, scanFiles } from '../sources/file-scan-task.js';
import { parseGitPatch, RECORD_SEPARATOR } from '../sources/git-patch-parser.js';

export type ScanTask =
  | { kind: 'files'; files: FileToScan[] }
  /**
   * `data`'s memory (its whole ArrayBuffer) is transferred to the worker, so it must belong to this task alone;
   * `continued`: the chunk opens with the header of a commit counted with the chunk before (patch-chunker.ts).
   */
  | { kind: 'patch'; data: Uint8Array; continued?: boolean };

export interface ScanWorkerInit {
  ruleSet: ScanRuleSet;
  engineOptions: Partial<ScanEngineOptions>;
  maxFileBytes: number;
}

export function runScanTask(engine: ScanEngine, task: ScanTask, maxFileBytes: number): ScanTaskResult {
  if (task.kind === 'files') return scanFiles(engine, task.files, maxFileBytes);
  const result = emptyTaskResult();
  const data = Buffer.from(task.data.buffer, task.data.byteOffset, task.data.byteLength);
  for (let at = data.indexOf(RECORD_SEPARATOR); at >= 0; at = data.indexOf(RECORD_SEPARATOR, at + 1))
    result.commits += 1;
  if (task.continued && result.commits > 0) result.commits -= 1;
  for (const fragment of parseGitPatch(data)) {
    if (maxFileBytes > 0 && fragment.data.length > maxFileBytes) {
      result.skippedOversized.push(fragment.path);
      continue;
    }
    result.files += 1;
    result.bytes += fragment.data.length;
    for (const finding of engine.scan(fragment)) result.findings.push(finding);
  }
  return result;
}
