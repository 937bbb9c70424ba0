// Which audit-log files a scheduled ingest has counted (migration 0025): usage counts are added on every ingest
// (src/audit/audit-usage-store.ts merge), so reading a file twice would count its records twice. A file is known by
// its path; it is recorded in the transaction that stores its counts (ingestAuditLogs' `withinCommit`), so a run
// that crashed before its commit left nothing and the next run reads the file again, and two runs that read the same
// file at once cannot both commit: the second insert of the path fails and rolls its whole transaction back.
import { stat } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';

export interface AuditLogFile {
  path: string;
  bytes: number;
  /** Modification time (ISO 8601). */
  modifiedAt: string;
}

export interface SortedAuditLogFiles {
  /** Never counted: to read. */
  fresh: AuditLogFile[];
  /** Counted, unchanged since. */
  counted: AuditLogFile[];
  /** Counted, and changed on disk since (size or time): not read again, which would count the old records twice. */
  changed: AuditLogFile[];
}

/** Size and modification time of each path. */
export async function auditLogFilesAt(paths: readonly string[]): Promise<AuditLogFile[]> {
  return Promise.all(
    paths.map(async (path) => {
      const info = await stat(path);
      return { path, bytes: info.size, modifiedAt: info.mtime.toISOString() };
    }),
  );
}

export class AuditLogFiles {
  readonly #db: Kysely<OperationalSchema>;

  constructor(db: Kysely<OperationalSchema>) {
    this.#db = db;
  }

  async sort(files: readonly AuditLogFile[]): Promise<SortedAuditLogFiles> {
    const sorted: SortedAuditLogFiles = { fresh: [], counted: [], changed: [] };
    const known = new Map<string, { bytes: number; modified_at: string }>();
    for (let i = 0; i < files.length; i += 500) {
      const rows = await this.#db
        .selectFrom('audit_log_files')
        .select(['path', 'bytes', 'modified_at'])
        .where(
          'path',
          'in',
          files.slice(i, i + 500).map((file) => file.path),
        )
        .execute();
      for (const row of rows) known.set(row.path, { bytes: Number(row.bytes), modified_at: row.modified_at });
    }
    for (const file of files) {
      const row = known.get(file.path);
      if (!row) sorted.fresh.push(file);
      else if (row.bytes === file.bytes && row.modified_at === file.modifiedAt) sorted.counted.push(file);
      else sorted.changed.push(file);
    }
    return sorted;
  }

  /**
   * Forgets that the files were counted, inside the transaction that counts them again (`audit-log ingest --again`):
   * the record() that follows then holds their new size and time.
   */
  async forget(trx: Kysely<OperationalSchema>, paths: readonly string[]): Promise<void> {
    for (let i = 0; i < paths.length; i += 500) {
      await trx
        .deleteFrom('audit_log_files')
        .where('path', 'in', paths.slice(i, i + 500))
        .execute();
    }
  }

  /** Records the files as counted, inside the transaction that stores their counts; throws if one already is. */
  async record(trx: Kysely<OperationalSchema>, files: readonly AuditLogFile[], at: Date): Promise<void> {
    for (let i = 0; i < files.length; i += 500) {
      await trx
        .insertInto('audit_log_files')
        .values(
          files.slice(i, i + 500).map((file) => ({
            path: file.path,
            bytes: file.bytes,
            modified_at: file.modifiedAt,
            ingested_at: at.toISOString(),
          })),
        )
        .execute();
    }
  }
}
