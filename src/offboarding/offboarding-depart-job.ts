// A leaver's offboarding as a job of the fleet's durable queue (src/jobs/, docs/scale-out.md): `offboarding.depart`
// carries the person and the departure signal (ids, names, emails: never key material), one open job per email, and
// runs on whichever replica's worker claims it. A replica that dies mid-run loses nothing: its lease runs out, another
// replica claims the job, and the workflow picks the person's journal up at its first step not done
// (src/offboarding/offboarding-jobs.ts), so no step is done twice.
import type { DirectoryPerson, DirectorySignal } from '../directory/identity-source.js';
import type { JobKind } from '../jobs/job-kind.js';
import type { EnqueueInput } from '../jobs/job-queue.js';
import type { Logger } from '../telemetry/logger.js';
import type { OffboardingWorkflow } from './offboarding-workflow.js';

export const OFFBOARDING_DEPART = 'offboarding.depart';
/** Runs of a departure that ends `failed` before the queue gives it up (then `offboard --resume` finishes it). */
export const OFFBOARDING_DEPART_MAX_ATTEMPTS = 6;

export interface OffboardingDepartPayload {
  person: DirectoryPerson;
  signal: DirectorySignal;
}

/** The queue's job for a departure: one open per person, so a repeated signal joins the job already waiting. */
export function offboardingDepartJob(person: DirectoryPerson, signal: DirectorySignal): EnqueueInput {
  const email = person.email.toLowerCase();
  return {
    kind: OFFBOARDING_DEPART,
    payload: { person: { ...person, email }, signal },
    dedupeKey: `offboarding:${email}`,
    maxAttempts: OFFBOARDING_DEPART_MAX_ATTEMPTS,
  };
}

/** Offboards the job's person; a run that ends `failed` (a rotation failed, a provider was down) is retried. */
export function offboardingDepartJobKind(
  workflow: OffboardingWorkflow,
  logger: Logger,
): JobKind<OffboardingDepartPayload> {
  return {
    kind: OFFBOARDING_DEPART,
    maxAttempts: OFFBOARDING_DEPART_MAX_ATTEMPTS,
    run: async ({ person, signal }) => {
      const report = await workflow.offboard(person, signal);
      logger.info({ email: report.email, state: report.state, ...report.counts }, 'offboarding finished');
      if (report.state === 'failed')
        throw new Error(`offboarding of ${report.email} is incomplete: ${report.failure ?? 'steps not done'}`);
      return { jobId: report.jobId, state: report.state, ...report.counts };
    },
  };
}
