// Every migration of the operational store, in order. Static imports rather than a directory scan, so the
// compiled build, tsx and the test runner all see the same list. To add one: write `NNNN_what.ts` beside this
// file (exporting `up` and, if it can be undone, `down`) and add one line at the end of the table below.
// Its number must be above every existing one, not a free gap below: Kysely's migrator refuses a database already
// migrated past the new name ("New migrations must always have a name that comes alphabetically after the last
// executed migration"), so a gap below the highest number stays unused.
import type { Migration, MigrationProvider } from 'kysely';
import * as events from './0001_events.js';
import * as idempotencyRecords from './0002_idempotency_records.js';
import * as embeddedSecrets from './0003_embedded_secrets.js';
import * as internalKeys from './0004_internal_keys.js';
import * as rotationJournal from './0005_rotation_journal.js';
import * as revocationJournal from './0006_revocation_journal.js';
import * as audit from './0010_audit.js';
import * as tokenDigests from './0011_token_digests.js';
import * as discovery from './0012_discovery.js';
import * as directory from './0013_directory.js';
import * as offboarding from './0014_offboarding.js';
import * as apiTokens from './0015_api_tokens.js';
import * as web from './0016_web.js';
import * as fencing from './0017_fencing.js';
import * as jobs from './0018_jobs.js';
import * as teams from './0019_teams.js';
import * as discoveredKeyHolder from './0020_discovered_key_holder.js';
import * as auditUsageLastUse from './0023_audit_usage_last_use.js';
import * as auditUsageLastCurrentUse from './0024_audit_usage_last_current_use.js';
import * as auditLogFiles from './0025_audit_log_files.js';
import * as rateBudgets from './0026_rate_budgets.js';

/** Name -> migration. Names sort in the order they must run; the migrator refuses an unknown or reordered history. */
export const operationalMigrations: Readonly<Record<string, Migration>> = {
  '0001_events': events,
  '0002_idempotency_records': idempotencyRecords,
  '0003_embedded_secrets': embeddedSecrets,
  '0004_internal_keys': internalKeys,
  '0005_rotation_journal': rotationJournal,
  '0006_revocation_journal': revocationJournal,
  '0010_audit': audit,
  '0011_token_digests': tokenDigests,
  '0012_discovery': discovery,
  '0013_directory': directory,
  '0014_offboarding': offboarding,
  '0015_api_tokens': apiTokens,
  '0016_web': web,
  '0017_fencing': fencing,
  '0018_jobs': jobs,
  '0019_teams': teams,
  '0020_discovered_key_holder': discoveredKeyHolder,
  '0023_audit_usage_last_use': auditUsageLastUse,
  '0024_audit_usage_last_current_use': auditUsageLastCurrentUse,
  '0025_audit_log_files': auditLogFiles,
  '0026_rate_budgets': rateBudgets,
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
