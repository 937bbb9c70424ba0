// Who left and how far their offboarding got, in one place (the dashboard's only read of it): people come from the
// directory the registry config names (src/directory/people-directory.ts) and from the offboarding journal
// (src/offboarding/offboarding-jobs.ts, one job per leaver, started in the server by a SCIM deprovision or an Okta
// hook); keys from the registry snapshot, open rotations from the rotation journal. A job's counts come from its
// steps (src/offboarding/offboarding-report.ts), so a running job shows its progress before its report is written.
// Access follows src/server/access.ts: security and admin see every leaver; a member sees the leavers whose keys
// belong to their teams, and only those keys (and the steps on them).
import type { RotationJournal } from '../lifecycle/rotation/rotation-journal.js';
import type { LeaverKey } from '../offboarding/leaver-keys.js';
import {
  type JobState,
  type OffboardingJob,
  OffboardingJobs,
  type OffboardingStep,
} from '../offboarding/offboarding-jobs.js';
import { buildOffboardingReport, type OffboardingReport } from '../offboarding/offboarding-report.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { canReadKey, hasRole, type Principal } from '../server/access.js';
import type { ServerContext } from '../server/server-module.js';
import type { Snapshot } from './registry-snapshot.js';

/** A leaver's offboarding as the dashboard shows it: `pending` while no job has started for them. */
export type LeaverState = JobState | 'pending';

export interface LeaverProgress {
  email: string;
  name?: string | undefined;
  team?: string | undefined;
  leftAt?: string | undefined;
  state: LeaverState;
  /** The job's report as its steps stand now (counts restricted to what the principal may read); none when pending. */
  report?: OffboardingReport | undefined;
  /** When the job started, and when it finished (done). */
  since?: string | undefined;
  finishedAt?: string | undefined;
  attempts: number;
  /** Keys the principal may read still naming the leaver as owner and still live (active or rotating). */
  liveKeys: KeyEntry[];
  /** Of those, keys with a rotation under way. */
  rotating: number;
  /** Keys naming the leaver that are revoked or retired (done). */
  closedKeys: number;
}

export interface LeaversSources {
  app: ServerContext['app'];
  clock: ServerContext['clock'];
  snapshot: Snapshot;
  journal: RotationJournal;
}

const STATE_ORDER: Record<LeaverState, number> = { running: 0, failed: 1, pending: 2, done: 3 };

/** Every leaver the principal may see, running and failed jobs first. */
export async function leaversWithProgress(sources: LeaversSources, principal: Principal): Promise<LeaverProgress[]> {
  const jobs = new OffboardingJobs(sources.app.operational.db, sources.clock);
  const byEmail = new Map((await jobs.list()).map((job) => [job.email, job]));
  const people = new Map<string, { email: string; name?: string; team?: string; leftAt?: string }>();
  for (const person of sources.app.workspace.people?.people() ?? [])
    if (person.status === 'left')
      people.set(person.email.toLowerCase(), {
        email: person.email.toLowerCase(),
        ...(person.name ? { name: person.name } : {}),
        ...(person.team ? { team: person.team } : {}),
        ...(person.left_at ? { leftAt: person.left_at } : {}),
      });
  for (const job of byEmail.values())
    if (!people.has(job.email))
      people.set(job.email, {
        email: job.email,
        ...(job.person.displayName ? { name: job.person.displayName } : {}),
        ...(job.person.team ? { team: job.person.team } : {}),
        leftAt: job.signal.at,
      });
  const open = new Set((await sources.journal.unfinished()).map((row) => row.key_id));
  const owned = keysByOwner(sources.snapshot);
  const rows: LeaverProgress[] = [];
  for (const person of people.values()) {
    const job = byEmail.get(person.email);
    const row = await progressOf(sources, principal, person, job, job ? await jobs.steps(job.jobId) : [], {
      owned: owned.get(person.email) ?? [],
      open,
    });
    if (row) rows.push(row);
  }
  return rows.sort(
    (a, b) =>
      STATE_ORDER[a.state] - STATE_ORDER[b.state] ||
      b.liveKeys.length - a.liveKeys.length ||
      a.email.localeCompare(b.email),
  );
}

/** One leaver, when the principal may see them (undefined otherwise, or when nobody by that email left). */
export async function leaverProgress(
  sources: LeaversSources,
  principal: Principal,
  email: string,
): Promise<LeaverProgress | undefined> {
  const wanted = email.trim().toLowerCase();
  const jobs = new OffboardingJobs(sources.app.operational.db, sources.clock);
  const job = await jobs.get(wanted);
  const listed = sources.app.workspace.people
    ?.people()
    .find((person) => person.status === 'left' && person.email.toLowerCase() === wanted);
  if (!job && !listed) return undefined;
  const person = {
    email: wanted,
    ...((listed?.name ?? job?.person.displayName) ? { name: listed?.name ?? job?.person.displayName } : {}),
    ...((listed?.team ?? job?.person.team) ? { team: listed?.team ?? job?.person.team } : {}),
    ...((listed?.left_at ?? job?.signal.at) ? { leftAt: listed?.left_at ?? job?.signal.at } : {}),
  };
  const open = new Set((await sources.journal.unfinished()).map((row) => row.key_id));
  return progressOf(sources, principal, person, job, job ? await jobs.steps(job.jobId) : [], {
    owned: keysByOwner(sources.snapshot).get(wanted) ?? [],
    open,
  });
}

async function progressOf(
  sources: LeaversSources,
  principal: Principal,
  person: { email: string; name?: string | undefined; team?: string | undefined; leftAt?: string | undefined },
  job: OffboardingJob | undefined,
  steps: OffboardingStep[],
  keys: { owned: KeyEntry[]; open: Set<string> },
): Promise<LeaverProgress | undefined> {
  const everything = hasRole(principal, 'security');
  const readable = (keyId: string, team?: string) => {
    if (everything) return true;
    const entry = sources.snapshot.byId.get(keyId)?.entry;
    return canReadKey(principal, { team: entry?.owner_team ?? team, individual: entry?.owner_individual });
  };
  const owned = keys.owned.filter((entry) => readable(entry.key_id, entry.owner_team));
  const visibleSteps = everything ? steps : steps.flatMap((step) => visibleStep(step, readable));
  const foundVisible = visibleSteps.some(
    (step) => step.step === 'found' && ((step.detail.keys as LeaverKey[] | undefined) ?? []).length > 0,
  );
  // A member sees a leaver only through a key of their teams.
  if (!everything && owned.length === 0 && !foundVisible) return undefined;
  const live = owned.filter((entry) => entry.status === 'active' || entry.status === 'rotating');
  const report = job ? buildOffboardingReport(job, visibleSteps, { state: job.state, ...failureOf(job) }) : undefined;
  return {
    ...person,
    state: job?.state ?? 'pending',
    report,
    since: job?.createdAt,
    finishedAt: job?.finishedAt,
    attempts: job?.attempts ?? 0,
    liveKeys: live,
    rotating: live.filter((entry) => keys.open.has(entry.key_id)).length,
    closedKeys: owned.length - live.length,
  };
}

/** A step as a member may see it: the `found` list cut to their keys; a key's step only for a key they may read. */
function visibleStep(step: OffboardingStep, readable: (keyId: string, team?: string) => boolean): OffboardingStep[] {
  if (step.step === 'found') {
    const found = ((step.detail.keys as LeaverKey[] | undefined) ?? []).filter((key) => readable(key.keyId, key.team));
    return [{ ...step, detail: { ...step.detail, keys: found } }];
  }
  const keyId = typeof step.detail.keyId === 'string' ? step.detail.keyId : keyIdOfStep(step.step);
  if (keyId === undefined) return [step];
  return readable(keyId) ? [step] : [];
}

/** Key steps are named `<action>:<key id>` (src/offboarding/offboarding-workflow.ts); `sessions:<idp>` is not one. */
export function keyIdOfStep(name: string): string | undefined {
  const [action, ...rest] = name.split(':');
  return action && ['reassign', 'rotate', 'disable', 'handover'].includes(action) && rest.length
    ? rest.join(':')
    : undefined;
}

function failureOf(job: OffboardingJob): { failure?: string } {
  return job.failure ? { failure: job.failure } : {};
}

function keysByOwner(snapshot: Snapshot): Map<string, KeyEntry[]> {
  const byOwner = new Map<string, KeyEntry[]>();
  for (const { entry } of snapshot.entries) {
    const owner = entry.owner_individual?.toLowerCase();
    if (owner) byOwner.set(owner, [...(byOwner.get(owner) ?? []), entry]);
  }
  return byOwner;
}
