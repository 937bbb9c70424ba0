// One batch of registry files analysed in one thread: what a validation worker receives and returns. Kept
// serialisable (no class instances), so the same code runs inline and in workers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PeopleDirectory, type Person } from '../directory/people-directory.js';
import { analyzeEntryText, type EntryAnalysis } from './entry-analysis.js';
import { compilePolicy } from './policy/policy-engine.js';
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
 * promise-based reads spent more time opening, stat-ing and closing file handles than parsing the files.
 */
export async function runAnalysisJob(job: AnalysisJob): Promise<EntryAnalysis[]> {
  const context = job.policy
    ? compilePolicy(job.policy, new Date(job.nowMs), job.people ? new PeopleDirectory(job.people) : undefined)
    : undefined;
  const policyFiles = job.policyFiles ? new Set(job.policyFiles) : undefined;
  const results: EntryAnalysis[] = new Array(job.files.length);
  for (let index = 0; index < job.files.length; index++) {
    const file = job.files[index]!;
    let text: string;
    try {
      text = readFileSync(join(job.root, file), 'utf8');
    } catch (error) {
      results[index] = {
        file,
        issues: [{ severity: 'error', rule: 'io', message: `cannot read: ${(error as Error).message}`, file }],
      };
      continue;
    }
    const usePolicy = context && (!policyFiles || policyFiles.has(file)) ? context : undefined;
    const analysis = analyzeEntryText(file, text, usePolicy);
    if (!job.includeEntries) delete analysis.entry;
    results[index] = analysis;
  }
  return results;
}
