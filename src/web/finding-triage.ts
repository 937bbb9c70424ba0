// Triage of scan findings (the `finding` events `scan --remediate` records, src/scan/remediation/): who is on
// it, and false positives. A false positive's fingerprint (`[commit:]file:rule:line`, never the secret) is added
// to the registry's ignore list `<dataDir>/.keyledgerignore`, in the `.gitleaksignore` format scans read with
// `--gitleaks-ignore-path` (src/scan/findings/fingerprint-ignore-file.ts).
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../runtime/clock.js';
import type { FindingTriageTable, TriageStatus, WebDb } from './web-schema.js';

export const FALSE_POSITIVE_FILE_NAME = '.keyledgerignore';

export class FindingTriage {
  readonly #db: WebDb;
  readonly #clock: Clock;

  constructor(db: WebDb, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  async of(findingIds: readonly string[]): Promise<Map<string, FindingTriageTable>> {
    if (findingIds.length === 0) return new Map();
    const rows = await this.#db
      .selectFrom('finding_triage')
      .selectAll()
      .where('finding_id', 'in', findingIds)
      .execute();
    return new Map(rows.map((row) => [row.finding_id, row]));
  }

  async set(
    findingId: string,
    change: { keyId: string | null; status: TriageStatus; assignee?: string | null; note?: string | null; by: string },
  ): Promise<void> {
    const values = {
      finding_id: findingId,
      key_id: change.keyId,
      status: change.status,
      assignee: change.assignee ?? null,
      note: change.note ?? null,
      updated_by: change.by,
      updated_at: this.#clock().toISOString(),
    };
    await this.#db
      .insertInto('finding_triage')
      .values(values)
      .onConflict((conflict) =>
        conflict.column('finding_id').doUpdateSet({
          status: values.status,
          ...(change.assignee !== undefined ? { assignee: values.assignee } : {}),
          ...(change.note !== undefined ? { note: values.note } : {}),
          updated_by: values.updated_by,
          updated_at: values.updated_at,
        }),
      )
      .execute();
  }
}

/** Adds a fingerprint to the false-positive list unless it is there; returns the file. */
export async function recordFalsePositive(dataDir: string, fingerprint: string, note: string): Promise<string> {
  const file = join(dataDir, FALSE_POSITIVE_FILE_NAME);
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (!existing.split(/\r?\n/).includes(fingerprint)) {
    const comment = note.replace(/[\r\n]+/g, ' ').slice(0, 200);
    await appendFile(file, `${existing && !existing.endsWith('\n') ? '\n' : ''}# ${comment}\n${fingerprint}\n`);
  }
  return file;
}
