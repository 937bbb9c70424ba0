// One migrated PostgreSQL database per test run, copied (`create database ... template`) for every test that wants
// a migrated store: running the migrations costs a test ~2 s of waiting on the server, a copy a fraction of that.
//
// vitest.global-setup.ts names the template (KEYLEDGER_TEST_POSTGRES_TEMPLATE, unique per run, so two checkouts or
// two runs never share one built from other migrations) and drops it when the run ends; the first test process
// that needs it builds it, under an advisory lock so parallel test files build it once.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openOperationalStore } from '../operational-store.js';

export const TEST_POSTGRES_TEMPLATE_VARIABLE = 'KEYLEDGER_TEST_POSTGRES_TEMPLATE';

/** A name for this run's template: recognisable as a test leftover, unique per run. */
export function newTemplateName(pid: number, random: string): string {
  return `keyledger_test_template_${pid}_${random}`;
}

let built: Promise<string | undefined> | undefined;

/**
 * The name of this run's migrated template, built on first use; undefined outside a vitest run (no name set), where
 * callers migrate each database themselves.
 */
export function migratedTemplate(adminUrl: string, withAdminClient: AdminClientRunner): Promise<string | undefined> {
  const name = process.env[TEST_POSTGRES_TEMPLATE_VARIABLE];
  if (!name) return Promise.resolve(undefined);
  // A failed build is not remembered: the next test tries again and reports its own error.
  built ??= withAdminClient(adminUrl, (client) => buildTemplate(client, adminUrl, name)).catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return built;
}

/** Runs `work` with a connected client on the server's admin database (test-databases.ts's, which says when the
 * server is unreachable). */
export type AdminClientRunner = <T>(adminUrl: string, work: (client: pg.Client) => Promise<T>) => Promise<T>;

async function buildTemplate(client: pg.Client, adminUrl: string, name: string): Promise<string> {
  await client.query('select pg_advisory_lock(hashtext($1))', [name]);
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount) return name;
    // Built under another name and renamed when complete: a process killed mid-migration leaves no half-migrated
    // template for the others to copy, only a `_building` database the next builder (or the run's end) drops.
    const building = buildingName(name);
    writeFileSync(markerFile(name), '');
    await client.query(`drop database if exists "${building}" with (force)`);
    await client.query(`create database "${building}"`);
    const url = new URL(adminUrl);
    url.pathname = `/${building}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'keyledger-template-'));
    try {
      const store = await openOperationalStore({ databaseUrl: url.toString(), dataDir });
      await store.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    await client.query(`alter database "${building}" rename to "${name}"`);
    return name;
  } finally {
    await client.query('select pg_advisory_unlock(hashtext($1))', [name]);
  }
}

/**
 * Drops the run's template (and a build left half-done) at the end of the run; does nothing, and connects to no
 * server, when no test built one.
 */
export async function dropMigratedTemplate(adminUrl: string, name: string, runDirectory: string): Promise<void> {
  if (!existsSync(join(runDirectory, markerName(name)))) return;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const database of [name, buildingName(name)])
      await client.query(`drop database if exists "${database}" with (force)`);
  } finally {
    await client.end();
  }
}

function buildingName(name: string): string {
  return `${name}_building`;
}

// In the run's temporary directory (vitest.global-setup.ts points TMPDIR at it), so the run's end knows to look.
function markerFile(name: string): string {
  return join(tmpdir(), markerName(name));
}

function markerName(name: string): string {
  return `${name}.built`;
}
