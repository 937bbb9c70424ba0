// The server's scheduled audit-log ingest (`audit-log.ingest` jobs, docs/scale-out.md): reads the files below the
// configured paths that no earlier run counted (audit-log-files.ts) and that have not changed for `minAgeMs` (a log
// still being written is left for a later tick), through the same ingest as `keyledger audit-log ingest`
// (audit-log-ingest.ts), recording them in the transaction that stores their counts. Running it again — the next
// tick, or another replica taking over a job whose holder died — reads only what is still uncounted.
import { auditLogSources, fileAuditLogSource } from '../audit-logs/audit-log-input.js';
import type { AuditLogReader } from '../audit-logs/audit-log-reader.js';
import type { EventLog } from '../events/event-log.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import type { Clock } from '../runtime/clock.js';
import { type AuditLogFiles, auditLogFilesAt } from './audit-log-files.js';
import { ingestAuditLogs } from './audit-log-ingest.js';
import type { AuditUsageStore } from './audit-usage-store.js';

export interface ScheduledAuditLogIngestInput {
  /** Files and folders (every file below) the server can read. */
  paths: readonly string[];
  readers: readonly AuditLogReader[];
  loadEntries: () => Promise<readonly KeyEntry[]>;
  store: AuditUsageStore;
  files: AuditLogFiles;
  events?: EventLog;
  actor?: string;
  clock: Clock;
  /** A file modified more recently than this is left for a later run (default 5 minutes). */
  minAgeMs?: number;
  onUnauthorisedUse?: (keyId: string) => void;
  threads?: number;
}

export interface ScheduledAuditLogIngestResult {
  /** Files read and counted by this run. */
  read: number;
  /** Files counted by an earlier run. */
  alreadyCounted: number;
  /** Files modified within `minAgeMs`: left for a later run. */
  settling: number;
  /** Files counted before and changed since: not read again (their old records would count twice). */
  changed: string[];
  records: number;
  matched: number;
  problems: number;
  newAnomalies: number;
}

export const DEFAULT_AUDIT_LOG_MIN_AGE_MS = 5 * 60_000;

export async function ingestNewAuditLogFiles(
  input: ScheduledAuditLogIngestInput,
): Promise<ScheduledAuditLogIngestResult> {
  const sources = await auditLogSources(input.paths);
  const onDisk = await auditLogFilesAt(sources.flatMap((source) => (source.file ? [source.file.path] : [])));
  const settledBefore = input.clock().getTime() - (input.minAgeMs ?? DEFAULT_AUDIT_LOG_MIN_AGE_MS);
  const settled = onDisk.filter((file) => Date.parse(file.modifiedAt) <= settledBefore);
  const { fresh, counted, changed } = await input.files.sort(settled);
  const summary: ScheduledAuditLogIngestResult = {
    read: 0,
    alreadyCounted: counted.length,
    settling: onDisk.length - settled.length,
    changed: changed.map((file) => file.path),
    records: 0,
    matched: 0,
    problems: 0,
    newAnomalies: 0,
  };
  if (fresh.length === 0) return summary;
  const result = await ingestAuditLogs({
    sources: fresh.map((file) => fileAuditLogSource(file.path, file.bytes)),
    readers: input.readers,
    entries: await input.loadEntries(),
    store: input.store,
    ...(input.events ? { events: input.events } : {}),
    actor: input.actor ?? 'system:audit-log-ingest',
    ...(input.onUnauthorisedUse ? { onUnauthorisedUse: input.onUnauthorisedUse } : {}),
    ...(input.threads !== undefined ? { threads: input.threads } : {}),
    withinCommit: (trx) => input.files.record(trx, fresh, input.clock()),
  });
  return {
    ...summary,
    read: fresh.length,
    records: result.records,
    matched: result.matched,
    problems: result.problems,
    newAnomalies: result.newAnomalies.length,
  };
}
