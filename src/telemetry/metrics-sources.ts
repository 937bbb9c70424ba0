// What `/metrics` reports, read from where keyledger keeps it: the registry (entries at HEAD), the operational
// store (rotation journal, `finding` events, audit anomalies) and the rotation controller's due detection. Counters
// come from durable rows, not from one process's memory, so a rotation run from a terminal counts on the server's
// scrape too and a restart resets nothing. Labels carry ids and names only: never a secret, a fingerprint or a
// provider key id (src/telemetry/metrics-server-module.test.ts plants canaries to check it).
//
// The app is described here by the parts this file reads, not imported from src/app/: telemetry/ holds the logger
// that app/, server/, events/ and lifecycle/ import, so an import back would make a folder cycle
// (src/test-support/layer-rules.ts). src/app/keyledger-app.ts's KeyledgerApp fits this shape.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import { readHeadCommit } from '../git/git-head.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { loadRegistry } from '../registry/registry-loader.js';
import type { RegistryWorkspace } from '../registry/registry-workspace.js';

export interface DueKeyLike {
  keyId: string;
  trigger: string;
  entry: Pick<KeyEntry, 'owner_team'>;
}

export interface MetricsApp {
  workspace: RegistryWorkspace;
  operational: { db: Kysely<OperationalSchema> };
  rotation(): { controller: { findDue(): Promise<readonly DueKeyLike[]> } };
}

/** The anomaly kinds that are the article's stolen-key signal (src/audit/audit-log-enrichment.ts). */
export const UNAUTHORIZED_USE_KINDS = ['revoked-key-used', 'rotated-out-key-used'] as const;

/** Rotation journal states counted as a failure: rolled back with the old key current, or failed outright. */
const FAILED_STATES = ['failed', 'rolled-back'] as const;

export interface PendingFinding {
  keyId: string;
  repo: string;
  scanner: string;
}

export interface MetricsReadings {
  now: Date;
  entries: KeyEntry[];
  due: readonly DueKeyLike[];
  rotationSuccess: { provider: string; count: number }[];
  rotationFailure: { reason: string; count: number }[];
  rollbackPending: { provider: string; count: number }[];
  findingsRecorded: { repo: string; scanner: string; count: number }[];
  findingsPending: { repo: string; scanner: string; count: number }[];
  unauthorizedUse: { keyId: string; count: number }[];
}

/**
 * A cheap fingerprint of everything the readings depend on except the clock: the registry's HEAD, the last event,
 * the journal's last change and the anomalies' last sighting. Equal tokens mean a rebuild would only move ages.
 */
export async function readChangeToken(app: MetricsApp): Promise<string> {
  const db = app.operational.db;
  const head = await registryHead(app.workspace.root);
  const events = await db
    .selectFrom('events')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  const journal = await db
    .selectFrom('rotation_journal')
    .select((eb) => [eb.fn.countAll().as('rows'), eb.fn.max('updated_at').as('updated')])
    .executeTakeFirst();
  const anomalies = await db
    .selectFrom('audit_anomalies')
    .select((eb) => [eb.fn.sum('count').as('count'), eb.fn.max('last_at').as('last')])
    .executeTakeFirst();
  return JSON.stringify([head, events?.seq, journal?.rows, journal?.updated, anomalies?.count, anomalies?.last]);
}

async function registryHead(root: string): Promise<string | undefined> {
  const gitDir = join(root, '.git');
  const isDirectory = await stat(gitDir).then(
    (found) => found.isDirectory(),
    () => false,
  );
  // A registry in a linked worktree has a `.git` file; its HEAD is then read at each TTL instead (no token).
  return isDirectory ? readHeadCommit(gitDir, gitDir) : undefined;
}

export async function readMetrics(app: MetricsApp, now: Date): Promise<MetricsReadings> {
  const db = app.operational.db;
  // The analysis runs in worker threads on large registries (src/registry/registry-loader.ts), off this event loop.
  const loaded = await loadRegistry({
    root: app.workspace.root,
    config: app.workspace.config,
    applyPolicy: false,
    includeEntries: true,
    now,
    cache: true,
  });
  const due = await app.rotation().controller.findDue();
  const rotationSuccess = await db
    .selectFrom('rotation_journal')
    .select((eb) => ['provider', eb.fn.countAll<number | string>().as('count')])
    .where('state', '=', 'done')
    .groupBy('provider')
    .execute();
  const rotationFailure = await db
    .selectFrom('rotation_journal')
    .select((eb) => ['rollback_reason', eb.fn.countAll<number | string>().as('count')])
    .where('state', 'in', FAILED_STATES)
    .groupBy('rollback_reason')
    .execute();
  const rollbackPending = await db
    .selectFrom('rotation_journal')
    .select((eb) => ['provider', eb.fn.countAll<number | string>().as('count')])
    .where('state', '=', 'rolling-back')
    .groupBy('provider')
    .execute();
  const unauthorized = await db
    .selectFrom('audit_anomalies')
    .select((eb) => ['key_id', eb.fn.sum<number | string>('count').as('count')])
    .where('kind', 'in', UNAUTHORIZED_USE_KINDS)
    .where('key_id', 'is not', null)
    .groupBy('key_id')
    .execute();
  const findings = await readFindings(db);
  return {
    now,
    entries: loaded.entries.map((loadedEntry) => loadedEntry.entry),
    due,
    rotationSuccess: rotationSuccess.map((row) => ({ provider: row.provider, count: Number(row.count) })),
    rotationFailure: rotationFailure.map((row) => ({
      reason: row.rollback_reason ?? 'unknown',
      count: Number(row.count),
    })),
    rollbackPending: rollbackPending.map((row) => ({ provider: row.provider, count: Number(row.count) })),
    findingsRecorded: countBy(findings.all),
    findingsPending: countBy(findings.pending),
    unauthorizedUse: unauthorized.map((row) => ({ keyId: row.key_id ?? '', count: Number(row.count) })),
  };
}

/**
 * The scanner's `finding` events (src/scan/remediation/finding-remediation.ts), and those still pending: a finding
 * is settled once its key was rotated or revoked after it.
 */
async function readFindings(
  db: Kysely<OperationalSchema>,
): Promise<{ all: PendingFinding[]; pending: PendingFinding[] }> {
  const rows = await db
    .selectFrom('events')
    .select(['seq', 'key_id', 'data'])
    .where('type', '=', 'finding')
    .where('key_id', 'is not', null)
    .execute();
  if (rows.length === 0) return { all: [], pending: [] };
  const keyIds = [...new Set(rows.map((row) => row.key_id as string))];
  const settledAt = new Map<string, number>();
  // In batches: SQLite caps the bound parameters of one statement.
  for (let start = 0; start < keyIds.length; start += 500) {
    const settled = await db
      .selectFrom('events')
      .select((eb) => ['key_id', eb.fn.max('seq').as('seq')])
      .where('type', 'in', ['rotated', 'revoked'])
      .where('key_id', 'in', keyIds.slice(start, start + 500))
      .groupBy('key_id')
      .execute();
    for (const row of settled) if (row.key_id) settledAt.set(row.key_id, Number(row.seq));
  }
  const all: PendingFinding[] = [];
  const pending: PendingFinding[] = [];
  for (const row of rows) {
    const keyId = row.key_id as string;
    const finding = { keyId, ...findingSource(row.data) };
    all.push(finding);
    if (Number(row.seq) > (settledAt.get(keyId) ?? 0)) pending.push(finding);
  }
  return { all, pending };
}

/** Where a finding was found and by what: the event's `repo` and `scanner` when it names them. */
function findingSource(data: string): { repo: string; scanner: string } {
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(data) as Record<string, unknown>;
  } catch {
    // A corrupt row is reported by `events verify`; here it still counts, under unknown.
  }
  return {
    repo: typeof parsed.repo === 'string' && parsed.repo ? parsed.repo : 'unknown',
    scanner: typeof parsed.scanner === 'string' && parsed.scanner ? parsed.scanner : 'keyledger',
  };
}

function countBy(findings: readonly PendingFinding[]): { repo: string; scanner: string; count: number }[] {
  const counts = new Map<string, { repo: string; scanner: string; count: number }>();
  for (const finding of findings) {
    const key = `${finding.repo}\u0000${finding.scanner}`;
    const found = counts.get(key) ?? { repo: finding.repo, scanner: finding.scanner, count: 0 };
    found.count += 1;
    counts.set(key, found);
  }
  return [...counts.values()];
}
