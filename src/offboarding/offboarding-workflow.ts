// The offboarding workflow (docs/offboarding.md): one durable job per leaver. Each run finds the keys tied to the
// person (leaver-keys.ts), plans a step per thing to do, and does the steps not yet done, recording each as it
// completes (offboarding-jobs.ts): reassign each key the person owns to their team's shared owner (one registry
// commit per key), rotate every key they held with trigger `owner-left` (event rotation through the rotation
// scheduler: the new secret goes from the provider to the store and the consumers, never to a person), revoke
// their personal credentials that nothing else consumes, hand the rest to a person through a ticket, and end their
// identity-provider sessions. A second signal for the same person changes nothing unless a new key turned up; a
// run stopped half-way is finished by the next (`keyledger offboard --resume`).
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import type { DirectoryPerson, DirectorySignal, IdentitySource } from '../directory/identity-source.js';
import type { EventLog } from '../events/event-log.js';
import type { RevokedKey, RevokeKeyRequest } from '../lifecycle/key-revocation.js';
import type { RotationOutcome } from '../lifecycle/rotation/key-rotator.js';
import type { DueKey } from '../lifecycle/rotation/rotation-due.js';
import type { ScheduleOptions, ScheduleReport } from '../lifecycle/rotation/rotation-scheduler.js';
import type { LoadedEntry } from '../registry/registry-loader.js';
import type { EntryPatch, WriteResult } from '../registry/registry-writer.js';
import type { Clock } from '../runtime/clock.js';
import type { TicketSink } from '../tickets/ticket-sink.js';
import { findLeaverKeys, type LeaverKey, readLeaverEvidence } from './leaver-keys.js';
import { type OffboardingJob, OffboardingJobs, type OffboardingStep } from './offboarding-jobs.js';
import { buildOffboardingReport, type OffboardingReport } from './offboarding-report.js';
import type { SharedOwnerPolicy } from './shared-owner.js';

export interface OffboardingDependencies {
  db: Kysely<OperationalSchema>;
  events: EventLog;
  clock: Clock;
  loadEntries(): Promise<LoadedEntry[]>;
  writer: { update(keyId: string, patch: EntryPatch, options?: { message?: string }): Promise<WriteResult> };
  /** The rotation scheduler (src/lifecycle/rotation/rotation-scheduler.ts), which tickets manual providers itself. */
  rotations: {
    run(due: readonly DueKey[], options?: ScheduleOptions): Promise<ScheduleReport>;
    /** Done rotations of a key, newest first (the journal), to recognise one finished before a crash. */
    doneSince(keyId: string, since: string): Promise<string | undefined>;
    /** The rotation ticket a manual key got (the ticket desk), when the scheduler ticketed it. */
    ticketOf?(due: DueKey): Promise<{ id: string; url?: string } | undefined>;
  };
  revoke(request: RevokeKeyRequest): Promise<RevokedKey>;
  identitySources: readonly IdentitySource[];
  sharedOwners: SharedOwnerPolicy;
  /** Where tickets for people go (the configured ticket sink); without one, such steps say so in the report. */
  tickets?: TicketSink;
  actor?: string;
  scheduleOptions?: ScheduleOptions;
  /** Called with each finished report (the CLI writes them to files). */
  onReport?(report: OffboardingReport): Promise<void>;
}

export interface OffboardingPlanItem {
  step: string;
  keyId?: string;
  what: string;
}

export class OffboardingWorkflow {
  readonly #deps: OffboardingDependencies;
  readonly jobs: OffboardingJobs;
  readonly #actor: string;
  /** One run per person at a time in this process: a second signal waits for the first and then finds it done. */
  readonly #running = new Map<string, Promise<OffboardingReport>>();

  constructor(dependencies: OffboardingDependencies) {
    this.#deps = dependencies;
    this.jobs = new OffboardingJobs(dependencies.db, dependencies.clock);
    this.#actor = dependencies.actor ?? 'system:offboarding';
  }

  /** What a run would do for this person now, changing nothing (`offboard EMAIL --dry-run`). */
  async plan(person: DirectoryPerson): Promise<{ keys: LeaverKey[]; steps: OffboardingPlanItem[] }> {
    const keys = await this.#find(person);
    return { keys, steps: this.#stepsFor(person, keys) };
  }

  /** The departure listener (src/directory/identity-source.ts DepartureListener): offboards the person. */
  readonly onDeparture = async (person: DirectoryPerson, signal: DirectorySignal): Promise<void> => {
    await this.offboard(person, signal);
  };

  /** Opens (or joins) the person's job and runs it to its end. */
  async offboard(person: DirectoryPerson, signal: DirectorySignal): Promise<OffboardingReport> {
    const email = person.email.toLowerCase();
    const inFlight = this.#running.get(email);
    if (inFlight) {
      await inFlight.catch(() => undefined);
    }
    const run = this.#offboard({ ...person, email }, signal);
    this.#running.set(email, run);
    try {
      return await run;
    } finally {
      if (this.#running.get(email) === run) this.#running.delete(email);
    }
  }

  /** Runs every job that did not finish (a crash, a failed rotation): `offboard --resume`, the controller's tick. */
  async resume(): Promise<OffboardingReport[]> {
    const reports: OffboardingReport[] = [];
    for (const job of [...(await this.jobs.list({ state: 'running' })), ...(await this.jobs.list({ state: 'failed' }))])
      reports.push(await this.offboard(job.person, job.signal));
    return reports;
  }

  async #offboard(person: DirectoryPerson, signal: DirectorySignal): Promise<OffboardingReport> {
    const { job, created } = await this.jobs.open(person, signal, this.#actor);
    const keys = await this.#find(job.person);
    const known = await this.jobs.steps(job.jobId);
    const knownSteps = new Set(known.map((step) => step.step));
    const planned = this.#stepsFor(job.person, keys);
    const fresh = planned.filter((item) => !knownSteps.has(item.step));
    // A repeated signal for a finished job with nothing new: nothing changes, not even an event.
    if (!created && job.state === 'done' && fresh.length === 0) return this.#reportOf(job, known);
    // A job opened by the server's departure listener (offboarding-queue.ts) starts here: it has never begun.
    const starting = created || job.state === 'done' || job.attempts === 0;
    await this.jobs.begin(job.jobId);
    if (starting)
      await this.#deps.events.append({
        type: 'offboarding.started',
        actor: this.#actor,
        data: {
          job_id: job.jobId,
          email: job.email,
          signal_id: signal.signalId,
          source: signal.source,
          status: signal.status,
          keys: keys.length,
        },
      });
    await this.jobs.planSteps(
      job.jobId,
      planned.map((item) => item.step),
    );
    await this.#recordFound(job, keys);
    let failure: string | undefined;
    try {
      await this.#run(job, keys);
    } catch (error) {
      failure = (error as Error).message;
    }
    const steps = await this.jobs.steps(job.jobId);
    const stillPending = steps.filter((step) => step.state === 'pending' || step.state === 'failed');
    if (!failure && stillPending.length)
      failure = `${stillPending.length} step(s) not done: ${stillPending
        .slice(0, 5)
        .map((step) => step.step)
        .join(', ')}`;
    const state = failure ? 'failed' : 'done';
    const report = buildOffboardingReport(job, steps, { state, ...(failure ? { failure } : {}) });
    await this.jobs.finish(job.jobId, state, report, failure);
    await this.#deps.events.append({
      type: state === 'done' ? 'offboarded' : 'offboarding.incomplete',
      actor: this.#actor,
      data: { job_id: job.jobId, email: job.email, ...report.counts, ...(failure ? { failure } : {}) },
    });
    await this.#deps.onReport?.(report);
    return report;
  }

  async #find(person: DirectoryPerson): Promise<LeaverKey[]> {
    const [entries, evidence] = await Promise.all([
      this.#deps.loadEntries(),
      readLeaverEvidence(this.#deps.db, person),
    ]);
    return findLeaverKeys(entries, person, evidence);
  }

  #stepsFor(person: DirectoryPerson, keys: readonly LeaverKey[]): OffboardingPlanItem[] {
    const steps: OffboardingPlanItem[] = [];
    for (const key of keys) {
      if (key.ties.includes('owner'))
        steps.push({
          step: `reassign:${key.keyId}`,
          keyId: key.keyId,
          what: `reassign to ${this.#deps.sharedOwners.ownerFor(key.team, person.email)}`,
        });
    }
    for (const key of keys) {
      if (isDisableOnly(key))
        steps.push({
          step: `disable:${key.keyId}`,
          keyId: key.keyId,
          what: 'revoke: a personal credential nothing else uses',
        });
      else steps.push({ step: `rotate:${key.keyId}`, keyId: key.keyId, what: 'rotate (owner-left)' });
      if (key.ties.includes('personal-credential') && !isDisableOnly(key))
        steps.push({
          step: `handover:${key.keyId}`,
          keyId: key.keyId,
          what: `move ${key.otherConsumers.join(', ')} off the leaver's own user (ticket)`,
        });
    }
    for (const source of this.#deps.identitySources)
      if (source.revokeSessions)
        steps.push({ step: `sessions:${source.name}`, what: `end sessions and OAuth tokens at ${source.name}` });
    return steps;
  }

  /** Keeps every key found so far on the job (a later run finds fewer: the reassigned ones name the team). */
  async #recordFound(job: OffboardingJob, keys: readonly LeaverKey[]): Promise<void> {
    await this.jobs.planSteps(job.jobId, ['found']);
    const previous = (await this.jobs.steps(job.jobId)).find((step) => step.step === 'found');
    const byKey = new Map<string, LeaverKey>(
      ((previous?.detail.keys as LeaverKey[] | undefined) ?? []).map((key) => [key.keyId, key]),
    );
    for (const key of keys) if (!byKey.has(key.keyId)) byKey.set(key.keyId, key);
    await this.jobs.completeStep(job.jobId, 'found', 'done', {
      keys: [...byKey.values()].sort((a, b) => a.keyId.localeCompare(b.keyId)),
    });
  }

  async #run(job: OffboardingJob, freshKeys: readonly LeaverKey[]): Promise<void> {
    const steps = await this.jobs.steps(job.jobId);
    const found = new Map<string, LeaverKey>(
      ((steps.find((step) => step.step === 'found')?.detail.keys as LeaverKey[] | undefined) ?? []).map((key) => [
        key.keyId,
        key,
      ]),
    );
    for (const key of freshKeys) found.set(key.keyId, key);
    const pending = (prefix: string) =>
      steps.filter((step) => step.step.startsWith(prefix) && (step.state === 'pending' || step.state === 'failed'));
    // 1. Reassign, one commit per key, before anything rotates: the rotation's commit then names the new owner.
    for (const step of pending('reassign:')) {
      const key = found.get(keyOf(step))!;
      await this.#reassign(job, step, key);
    }
    // 2. Rotate every key the leaver held, all at once under the providers' limits.
    await this.#rotateAll(job, pending('rotate:'), found);
    // 3. Revoke the personal credentials nothing else consumes; ticket the ones something does.
    for (const step of pending('disable:')) await this.#disable(job, step);
    for (const step of pending('handover:')) await this.#handover(job, step, found.get(keyOf(step))!);
    // 4. End the person's sessions at each identity provider.
    for (const step of pending('sessions:')) await this.#sessions(job, step);
  }

  async #reassign(job: OffboardingJob, step: OffboardingStep, key: LeaverKey): Promise<void> {
    const to = this.#deps.sharedOwners.ownerFor(key.team, job.email);
    const entries = await this.#deps.loadEntries();
    const entry = entries.find((loaded) => loaded.entry.key_id === key.keyId)?.entry;
    if (!entry || entry.owner_individual?.toLowerCase() !== job.email) {
      // Someone reassigned it already (or a crash fell between the commit and this record).
      await this.#complete(job, step.step, 'skipped', {
        keyId: key.keyId,
        owner: entry?.owner_individual ?? null,
        why: 'no longer names the leaver',
      });
      return;
    }
    const written = await this.#deps.writer.update(
      key.keyId,
      { owner_individual: to, owner_team: key.team },
      {
        message: `offboarding: ${key.keyId} passes from ${job.email} to ${to} (${key.team})\n\nJob ${job.jobId}; the key is rotated with trigger owner-left next.`,
      },
    );
    await this.#deps.events.append({
      type: 'reassigned',
      actor: this.#actor,
      keyId: key.keyId,
      data: { job_id: job.jobId, from: job.email, to, team: key.team, commit: written.commit },
    });
    await this.#complete(job, step.step, 'done', { keyId: key.keyId, from: job.email, to, commit: written.commit });
  }

  async #rotateAll(job: OffboardingJob, steps: OffboardingStep[], found: Map<string, LeaverKey>): Promise<void> {
    if (!steps.length) return;
    const entries = new Map((await this.#deps.loadEntries()).map((loaded) => [loaded.entry.key_id, loaded]));
    const due: DueKey[] = [];
    for (const step of steps) {
      const keyId = keyOf(step);
      const loaded = entries.get(keyId);
      if (!loaded || loaded.entry.status === 'revoked' || loaded.entry.status === 'retired') {
        await this.#complete(job, step.step, 'skipped', {
          keyId,
          why: loaded ? `already ${loaded.entry.status}` : 'no entry',
        });
        continue;
      }
      // A rotation that finished before a crash, after the job began: recorded, not repeated.
      const done = await this.#deps.rotations.doneSince(keyId, job.createdAt);
      if (done) {
        await this.#complete(job, step.step, 'done', { keyId, rotationId: done });
        continue;
      }
      due.push({
        keyId,
        file: loaded.file,
        entry: loaded.entry,
        trigger: 'owner-left',
        dueAt: new Date(job.signal.at),
        reason: `${job.email} left (${job.signal.source}): ${found.get(keyId)?.because.join('; ') ?? 'tied to the leaver'}`,
      });
    }
    if (!due.length) return;
    const outcomes = new Map<string, RotationOutcome | { status: 'error'; error: string }>();
    await this.#deps.rotations.run(due, {
      ...this.#deps.scheduleOptions,
      onOutcome: (keyId, outcome) => {
        outcomes.set(keyId, outcome);
        this.#deps.scheduleOptions?.onOutcome?.(keyId, outcome);
      },
    });
    for (const key of due) {
      const step = `rotate:${key.keyId}`;
      const outcome = outcomes.get(key.keyId);
      if (outcome?.status === 'done') {
        await this.#complete(job, step, 'done', { keyId: key.keyId, rotationId: outcome.row.rotation_id });
      } else if (!outcome || outcome.status === 'error') {
        // No outcome: the scheduler gave the key to a person (a provider without an issuance API), or could not plan it.
        const ticket = await this.#deps.rotations.ticketOf?.(key);
        if (ticket)
          await this.#complete(job, step, 'left', {
            keyId: key.keyId,
            why: 'rotated by a person: the provider has no issuance API',
            ticket,
          });
        else
          await this.#complete(job, step, 'failed', {
            keyId: key.keyId,
            error: outcome?.status === 'error' ? outcome.error : 'not rotated and no ticket sink configured',
          });
      } else {
        await this.#complete(job, step, 'failed', {
          keyId: key.keyId,
          status: outcome.status,
          ...('row' in outcome ? { rotationId: outcome.row.rotation_id, failure: outcome.row.failure } : {}),
        });
      }
    }
  }

  async #disable(job: OffboardingJob, step: OffboardingStep): Promise<void> {
    const keyId = keyOf(step);
    try {
      const revoked = await this.#deps.revoke({
        keyId,
        actor: this.#actor,
        reason: `offboarding ${job.email}: a personal credential of a leaver that no other consumer uses`,
      });
      await this.#complete(job, step.step, 'done', { keyId, revoked: revoked.steps, commit: revoked.commit ?? null });
    } catch (error) {
      await this.#complete(job, step.step, 'failed', { keyId, error: (error as Error).message });
    }
  }

  async #handover(job: OffboardingJob, step: OffboardingStep, key: LeaverKey): Promise<void> {
    const sink = this.#deps.tickets;
    if (!sink) {
      await this.#complete(job, step.step, 'left', {
        keyId: key.keyId,
        why: 'no ticket sink configured: move the consumers to a service identity by hand',
      });
      return;
    }
    const dedupeKey = `offboarding:${job.email}:${key.keyId}`;
    const ticket =
      (await sink.findOpen(dedupeKey)) ??
      (await sink.open({
        dedupeKey,
        keyId: key.keyId,
        title: `Move ${key.keyId} off ${job.email}'s own ${key.provider} user`,
        body: [
          `${job.email} has left. \`${key.keyId}\` is held by their own ${key.provider} user and was rotated (trigger owner-left),`,
          `but ${key.otherConsumers.join(', ')} still depend on it. Move them to a service identity owned by ${key.team},`,
          'then revoke the key and delete the user.',
          '',
          `- [ ] issue a key for a ${key.team} service identity`,
          '- [ ] switch the consumers to it',
          `- [ ] \`keyledger revoke ${key.keyId}\``,
          `- [ ] delete ${job.email}'s user at ${key.provider}`,
          '',
          `<!-- keyledger:${dedupeKey} -->`,
        ].join('\n'),
        ownerTeam: key.team,
        ownerIndividual: this.#deps.sharedOwners.ownerFor(key.team, job.email),
        dueAt: new Date(this.#deps.clock().getTime() + 7 * 86_400_000),
        labels: ['keyledger', 'offboarding'],
      }));
    await this.#complete(job, step.step, 'left', {
      keyId: key.keyId,
      why: `consumed by ${key.otherConsumers.join(', ')}: moving them off the leaver's user is a person's job`,
      ticket,
    });
  }

  async #sessions(job: OffboardingJob, step: OffboardingStep): Promise<void> {
    const name = step.step.slice('sessions:'.length);
    const source = this.#deps.identitySources.find((candidate) => candidate.name === name);
    if (!source?.revokeSessions) {
      await this.#complete(job, step.step, 'skipped', { source: name, why: 'source not configured any more' });
      return;
    }
    try {
      const result = await source.revokeSessions(job.person);
      await this.#complete(job, step.step, result.revoked ? 'done' : 'skipped', {
        source: name,
        detail: result.detail,
      });
    } catch (error) {
      await this.#complete(job, step.step, 'failed', { source: name, error: (error as Error).message });
    }
  }

  async #complete(
    job: OffboardingJob,
    step: string,
    state: 'done' | 'skipped' | 'left' | 'failed',
    detail: Record<string, unknown>,
  ): Promise<void> {
    await this.jobs.completeStep(job.jobId, step, state, detail);
    const keyId = typeof detail.keyId === 'string' ? detail.keyId : null;
    await this.#deps.events.append({
      type: 'offboarding.step',
      actor: this.#actor,
      keyId,
      data: { job_id: job.jobId, email: job.email, step, state, ...withoutKeyId(detail) },
    });
  }

  #reportOf(job: OffboardingJob, steps: OffboardingStep[]): OffboardingReport {
    return buildOffboardingReport(job, steps, { state: job.state, ...(job.failure ? { failure: job.failure } : {}) });
  }
}

function keyOf(step: OffboardingStep): string {
  return step.step.slice(step.step.indexOf(':') + 1);
}

function withoutKeyId(detail: Record<string, unknown>): Record<string, unknown> {
  const { keyId: _keyId, ...rest } = detail;
  return rest;
}

/** A personal credential with no consumer but the leaver: revoked rather than rotated. */
function isDisableOnly(key: LeaverKey): boolean {
  return key.ties.includes('personal-credential') && key.otherConsumers.length === 0;
}
