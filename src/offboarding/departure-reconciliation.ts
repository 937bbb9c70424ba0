// Reconciliation (docs/offboarding.md, "Reconcile"): the article's "offboarding integration miss" is a person
// who left without any signal reaching us. This compares the directory with every identity provider and with the
// registry's owners: a person a provider shows as gone while the directory still has them active is applied to
// the directory as a `reconcile:` signal (which starts their offboarding through the departure listener), and a
// person the directory has as gone whose offboarding never ran or did not finish is offboarded now. `offboard
// --reconcile` runs it; the rotation controller's daily tick can call it too.
import type {
  DirectoryPerson,
  DirectorySignal,
  DirectoryUpdates,
  IdentitySource,
} from '../directory/identity-source.js';
import type { LoadedEntry } from '../registry/registry-loader.js';
import type { Clock } from '../runtime/clock.js';
import type { OffboardingWorkflow } from './offboarding-workflow.js';

export interface ReconciliationInput {
  directory: DirectoryUpdates;
  sources: readonly IdentitySource[];
  entries: readonly LoadedEntry[];
  workflow: OffboardingWorkflow;
  /** Owners that are teams' shared accounts, not people (shared-owner.ts): never "unknown". */
  isSharedOwner?: (email: string) => boolean;
  clock: Clock;
  dryRun?: boolean;
}

export interface ReconciliationReport {
  /** People a provider shows as gone while the directory had them active: signals applied (or, dry run, to apply). */
  missedSignals: Array<{ email: string; source: string; status: string }>;
  /** Gone in the directory, but never (or not completely) offboarded: offboarded now. */
  notOffboarded: Array<{ email: string; status: string; job: 'none' | 'failed' | 'running' }>;
  /** Newer in the directory than at the provider (a rehire?): left alone, for a person to look at. */
  conflicts: Array<{ email: string; source: string; directory: string; provider: string }>;
  /** Registry owners no directory or provider knows. */
  unknownOwners: Array<{ email: string; keys: string[] }>;
  /** Sources that could not be read (the rest were still compared). */
  unreadable: Array<{ source: string; error: string }>;
  offboarded: Array<{ email: string; state: string }>;
}

export async function reconcileDepartures(input: ReconciliationInput): Promise<ReconciliationReport> {
  const report: ReconciliationReport = {
    missedSignals: [],
    notOffboarded: [],
    conflicts: [],
    unknownOwners: [],
    unreadable: [],
    offboarded: [],
  };
  const now = input.clock().toISOString();
  const known = new Set<string>();
  for (const source of input.sources) {
    const seen: DirectoryPerson[] = [];
    try {
      for await (const person of source.listPeople()) seen.push(person);
    } catch (error) {
      report.unreadable.push({ source: source.name, error: (error as Error).message });
      continue;
    }
    for (const person of seen) {
      known.add(person.email);
      if (person.status === 'active') continue;
      const current = await input.directory.find(person.email);
      if (current && current.status !== 'active') continue;
      if (current?.statusChangedAt && person.statusChangedAt && current.statusChangedAt > person.statusChangedAt) {
        report.conflicts.push({
          email: person.email,
          source: source.name,
          directory: `${current.status} since ${current.statusChangedAt}`,
          provider: `${person.status} since ${person.statusChangedAt}`,
        });
        continue;
      }
      report.missedSignals.push({ email: person.email, source: source.name, status: person.status });
      if (input.dryRun) continue;
      const signal: DirectorySignal = {
        signalId: `reconcile:${source.name}:${person.externalId ?? person.id}:${person.status}`,
        source: 'reconcile',
        email: person.email,
        status: person.status,
        // When we learned it: the provider's own change time may predate the directory's last (unrelated) change.
        at: now,
      };
      const { departed, person: updated } = await input.directory.apply(signal, {
        id: current?.id ?? person.id,
        ...(person.externalId ? { externalId: person.externalId } : {}),
        ...(person.displayName ? { displayName: person.displayName } : {}),
      });
      // The directory calls the workflow for a departure; one it did not (no listener) is offboarded here.
      if (!departed) continue;
      const job = await input.workflow.jobs.get(person.email);
      if (job) report.offboarded.push({ email: person.email, state: job.state });
      else await offboardNow(input, report, updated, signal);
    }
  }
  for (const person of await input.directory.list()) {
    known.add(person.email);
    if (person.status === 'active') continue;
    const job = await input.workflow.jobs.get(person.email);
    if (job?.state === 'done') continue;
    report.notOffboarded.push({ email: person.email, status: person.status, job: job ? job.state : 'none' });
    if (input.dryRun) continue;
    await offboardNow(input, report, person, {
      signalId: `reconcile:directory:${person.id}:${person.status}`,
      source: 'reconcile',
      email: person.email,
      status: person.status,
      at: person.statusChangedAt ?? now,
    });
  }
  const owners = new Map<string, string[]>();
  for (const { entry } of input.entries) {
    const owner = entry.owner_individual?.toLowerCase();
    if (!owner || entry.status === 'revoked' || entry.status === 'retired' || known.has(owner)) continue;
    if (input.isSharedOwner?.(owner)) continue;
    owners.set(owner, [...(owners.get(owner) ?? []), entry.key_id]);
  }
  report.unknownOwners = [...owners]
    .map(([email, keys]) => ({ email, keys }))
    .sort((a, b) => a.email.localeCompare(b.email));
  return report;
}

async function offboardNow(
  input: ReconciliationInput,
  report: ReconciliationReport,
  person: DirectoryPerson,
  signal: DirectorySignal,
): Promise<void> {
  const result = await input.workflow.offboard(person, signal);
  report.offboarded.push({ email: person.email, state: result.state });
}
