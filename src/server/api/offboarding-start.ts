// POST /api/v1/offboarding's work (offboarding-routes.ts), the API's `keyledger offboard EMAIL [--dry-run]`
// (src/cli/commands/offboard.ts offboardOne): the person as the directory store knows them, else as the HR file
// does; a dry run is the workflow's plan; a start records a manual departure in the directory store and hands the
// job to the server's offboarding queue (src/server/offboarding-runner.ts), which runs it off the request path.
// A person with a running or finished job is not started again; a failed job is queued to finish. Under an
// Idempotency-Key a retried request gets the first answer back (src/lifecycle/idempotency-records.ts, as the
// issue route's key issuance does).
import type { KeyledgerApp } from '../../app/keyledger-app.js';
import { directoryFor, type PersonDetails } from '../../directory/directory-store.js';
import type { DirectoryPerson, DirectorySignal } from '../../directory/identity-source.js';
import { IdempotencyRecords } from '../../lifecycle/idempotency-records.js';
import { directoryPeopleOf } from '../../offboarding/memory-directory.js';
import type { OffboardingJob } from '../../offboarding/offboarding-jobs.js';
import type { Clock } from '../../runtime/clock.js';
import type { OffboardingRunner } from '../offboarding-runner.js';

export const OFFBOARDING_REQUESTED_EVENT = 'offboarding.requested';
const IDEMPOTENT_COMMAND = 'api:offboard';

export interface OffboardingServices {
  app: KeyledgerApp;
  clock: Clock;
  runner: OffboardingRunner;
}

export interface OffboardingPlan {
  email: string;
  dryRun: true;
  keys: Array<{
    keyId: string;
    provider: string;
    team: string;
    ties: string[];
    because: string[];
    otherConsumers: string[];
  }>;
  steps: Array<{ step: string; keyId?: string; what: string }>;
}

export interface OffboardingStarted {
  email: string;
  dryRun: false;
  jobId: string;
  state: OffboardingJob['state'];
  location: string;
  started: boolean;
  replayed: boolean;
}

/** What a start would do, changing nothing (not even the directory). */
export async function planOffboarding(services: OffboardingServices, email: string): Promise<OffboardingPlan> {
  const { person } = await leaverFrom(services, email);
  const plan = await services.runner.workflow.plan(person);
  return {
    email: person.email,
    dryRun: true,
    keys: plan.keys.map((key) => ({
      keyId: key.keyId,
      provider: key.provider,
      team: key.team,
      ties: [...key.ties],
      because: [...key.because],
      otherConsumers: [...key.otherConsumers],
    })),
    steps: plan.steps.map((step) => ({
      step: step.step,
      ...(step.keyId ? { keyId: step.keyId } : {}),
      what: step.what,
    })),
  };
}

export async function startOffboarding(
  services: OffboardingServices,
  request: { email: string; actor: string; location: string; idempotencyKey?: string },
): Promise<OffboardingStarted> {
  const { app, clock } = services;
  const key = request.idempotencyKey;
  if (!key) return start(services, request);
  const idempotency = new IdempotencyRecords(app.operational.db, clock);
  const claim = await idempotency.claim<never, OffboardingStarted>(
    key,
    IDEMPOTENT_COMMAND,
    IdempotencyRecords.hashRequest({ email: request.email }),
  );
  if (claim.kind === 'completed') return { ...claim.result, replayed: true };
  // New, or a run that stopped half-way: starting is itself idempotent (one job per person), so run it (again).
  try {
    const result = await start(services, { ...request, signalId: `manual:api:${key}` });
    await idempotency.complete(key, result);
    return result;
  } catch (error) {
    await idempotency.fail(key, error instanceof Error ? error.message : String(error)).catch(() => undefined);
    throw error;
  }
}

async function start(
  services: OffboardingServices,
  request: { email: string; actor: string; location: string; signalId?: string },
): Promise<OffboardingStarted> {
  const { app, clock, runner } = services;
  const { jobs } = runner.workflow;
  const answer = (job: OffboardingJob, started: boolean): OffboardingStarted => ({
    email: job.email,
    dryRun: false,
    jobId: job.jobId,
    state: job.state,
    location: request.location,
    started,
    replayed: false,
  });
  const existing = await jobs.get(request.email);
  if (existing && existing.state !== 'failed') {
    await requested(services, request, existing, false);
    return answer(existing, false);
  }
  const { person, details } = await leaverFrom(services, request.email);
  const at = clock().toISOString();
  const signal: DirectorySignal = {
    signalId: request.signalId ?? `manual:${person.email}:${at}`,
    source: 'manual',
    email: person.email,
    status: person.status,
    at,
  };
  // Recorded as a manual departure (the store then shows them gone for `validate`, `audit`). A person who was
  // active departs here, and the offboarding module's listener opens the job and queues it; one already gone (their
  // signal heard before, with no job) or whose job failed is handed to the queue directly.
  const applied = await directoryFor(app.operational.db, clock).apply(signal, details);
  let job = await jobs.get(person.email);
  if (!job) {
    await runner.queue.onDeparture(applied.person.status === 'active' ? person : applied.person, signal);
    job = (await jobs.get(person.email))!;
  } else if (job.state === 'failed') {
    runner.queue.enqueue(job.person, job.signal);
  }
  await requested(services, request, job, true);
  return answer(job, true);
}

/** Who asked, in the event log: the job itself runs as the server's offboarding actor. */
async function requested(
  services: OffboardingServices,
  request: { email: string; actor: string },
  job: OffboardingJob,
  started: boolean,
): Promise<void> {
  await services.app.events.append({
    type: OFFBOARDING_REQUESTED_EVENT,
    actor: request.actor,
    data: { email: request.email, jobId: job.jobId, started, via: 'api' },
  });
}

/** The person as the directory knows them, else as the HR file does, else as little as the email says. */
async function leaverFrom(
  services: OffboardingServices,
  email: string,
): Promise<{ person: DirectoryPerson; details: PersonDetails }> {
  const { app, clock } = services;
  const known = await directoryFor(app.operational.db, clock).find(email);
  const [fromFile] = directoryPeopleOf([app.workspace.people?.find(email) ?? { email, status: 'left' }]);
  const person = known ?? fromFile!;
  // Someone the directory has never heard of is stored with what the HR file says of them.
  const details: PersonDetails = known
    ? {}
    : {
        ...(fromFile!.displayName ? { displayName: fromFile!.displayName } : {}),
        ...(fromFile!.team ? { team: fromFile!.team } : {}),
      };
  return {
    person: { ...person, status: person.status === 'active' ? 'deprovisioned' : person.status, source: 'manual' },
    details,
  };
}
