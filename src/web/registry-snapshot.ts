// The registry as the dashboard reads it: every entry loaded once and kept until the registry's git HEAD moves
// (checked at most once a second; the previous load answers while the next one runs), with the quarterly audit's
// per-key finding classes computed over the same load, so filtering and paging 100,000 keys is an in-memory pass
// rather than a reload per request.
import { anomalyFindingsOf } from '../audit/audit-anomaly-findings.js';
import { readAuditDiscoveryInput } from '../audit/audit-discovery-input.js';
import { AuditUsageStore } from '../audit/audit-usage-store.js';
import { type AuditFindingClass, type AuditReport, runQuarterlyAudit } from '../audit/quarterly-audit.js';
import { runGit } from '../git/git-command.js';
import { compilePolicy } from '../registry/policy/policy-engine.js';
import { type LoadedEntry, loadRegistry } from '../registry/registry-loader.js';
import type { ServerContext } from '../server/server-module.js';
import { inventoryIndexOf } from './inventory-index.js';

export interface Snapshot {
  head: string;
  entries: LoadedEntry[];
  byId: Map<string, LoadedEntry>;
  /** The audit's finding classes per key id (owner-left, no-clear-owner, broad-scope, rotation-overdue...). */
  classes: Map<string, Set<AuditFindingClass>>;
  audit: AuditReport;
  loadedAt: Date;
}

const HEAD_CHECK_MS = 1_000;

export class RegistrySnapshot {
  readonly #context: ServerContext;
  #ready: Snapshot | undefined;
  #loading: { head: string; promise: Promise<Snapshot> } | undefined;
  #checkedAt = 0;

  constructor(context: ServerContext) {
    this.#context = context;
  }

  /**
   * The registry's snapshot. When HEAD moved since the last load, the new load starts and, while it runs, the
   * previous snapshot keeps answering (a 100,000-entry load takes seconds; pages read single entries fresh).
   */
  async get(): Promise<Snapshot> {
    const now = Date.now();
    if (this.#ready && now - this.#checkedAt < HEAD_CHECK_MS) return this.#ready;
    this.#checkedAt = now;
    const head = await this.#head();
    if (this.#ready?.head === head) return this.#ready;
    if (this.#loading?.head !== head) {
      const loading = this.#load(head);
      this.#loading = { head, promise: loading };
      loading
        .then((snapshot) => {
          this.#ready = snapshot;
        })
        .catch((error: unknown) => {
          this.#context.logger.error({ err: { message: (error as Error).message } }, 'registry load failed');
        })
        .finally(() => {
          if (this.#loading?.promise === loading) this.#loading = undefined;
        });
    }
    return this.#ready ?? this.#loading!.promise;
  }

  /** Forget the cached load (after this process wrote the registry). */
  invalidate(): void {
    this.#checkedAt = 0;
  }

  async #head(): Promise<string> {
    return (
      await runGit(['rev-parse', 'HEAD'], { cwd: this.#context.app.workspace.root }).catch(() => 'no-head')
    ).trim();
  }

  async #load(head: string): Promise<Snapshot> {
    const { app, clock } = this.#context;
    const { workspace } = app;
    const loaded = await loadRegistry({
      root: workspace.root,
      config: workspace.config,
      applyPolicy: false,
      includeEntries: true,
      cache: true,
    });
    const entries = [...loaded.entries].sort((a, b) => a.entry.key_id.localeCompare(b.entry.key_id));
    const now = clock();
    const usage = new AuditUsageStore(app.operational.db);
    const policy = compilePolicy(workspace.config.policy, now, workspace.people);
    const discovery = await readAuditDiscoveryInput({
      db: app.operational.db,
      usage,
      entries: entries.map(({ entry }) => entry),
      ...(workspace.people ? { people: workspace.people } : {}),
      asOf: now,
      isBroadPermission: policy.isForbiddenPermission,
    });
    const audit = runQuarterlyAudit({
      entries,
      asOf: now,
      now,
      ...(workspace.people ? { people: workspace.people } : {}),
      isBroadPermission: policy.isForbiddenPermission,
      holders: discovery.holders,
      unregisteredListed: discovery.unregisteredListed,
      goneAtProvider: discovery.goneAtProvider,
      lastUse: await usage.lastUseByKey(),
      providersWithUsage: await usage.providersWithUsage(),
      anomalies: await anomalyFindingsOf(app.operational.db),
    });
    const classes = new Map<string, Set<AuditFindingClass>>();
    for (const finding of audit.findings) {
      const set = classes.get(finding.keyId) ?? new Set<AuditFindingClass>();
      set.add(finding.class);
      classes.set(finding.keyId, set);
    }
    const snapshot: Snapshot = {
      head,
      entries,
      byId: new Map(entries.map((loadedEntry) => [loadedEntry.entry.key_id, loadedEntry])),
      classes,
      audit,
      loadedAt: now,
    };
    // Indexed with the load, not by the first request that reads it (inventory-index.ts).
    inventoryIndexOf(snapshot);
    return snapshot;
  }
}
