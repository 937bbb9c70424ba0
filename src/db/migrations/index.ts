// Every migration of the operational store, in order. Static imports rather than a directory scan, so the
// compiled build, tsx and the test runner all see the same list. To add one: write `NNNN_what.ts` beside this
// file (exporting `up` and, if it can be undone, `down`) and add one line at the end of the table below.
import type { Migration, MigrationProvider } from 'kysely';
import * as events from './0001_events.js';
import * as idempotencyRecords from './0002_idempotency_records.js';
import * as embeddedSecrets from './0003_embedded_secrets.js';
import * as internalKeys from './0004_internal_keys.js';
import * as rotationJournal from './0005_rotation_journal.js';
import * as revocationJournal from './0006_revocation_journal.js';
import * as audit from './0010_audit.js';
import * as offboarding from './0014_offboarding.js';

/** Name -> migration. Names sort in the order they must run; the migrator refuses an unknown or reordered history. */
export const operationalMigrations: Readonly<Record<string, Migration>> = {
  '0001_events': events,
  '0002_idempotency_records': idempotencyRecords,
  '0003_embedded_secrets': embeddedSecrets,
  '0004_internal_keys': internalKeys,
  '0005_rotation_journal': rotationJournal,
  '0006_revocation_journal': revocationJournal,
  '0010_audit': audit,
  '0014_offboarding': offboarding,
};

/** Hands Kysely's Migrator the table above; reads no files. */
export class StaticMigrationProvider implements MigrationProvider {
  readonly #migrations: Readonly<Record<string, Migration>>;

  constructor(migrations: Readonly<Record<string, Migration>> = operationalMigrations) {
    this.#migrations = migrations;
  }

  async getMigrations(): Promise<Record<string, Migration>> {
    return { ...this.#migrations };
  }
}
