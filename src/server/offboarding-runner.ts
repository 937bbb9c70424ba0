// How the JSON API reaches the server's offboarding (docs/offboarding.md, POST /api/v1/offboarding): the
// offboarding module (offboarding-module.ts) attaches its workflow and queue here, keyed by the operational store
// like the directory store (src/directory/directory-store.ts directoryFor), and the API's route
// (api/offboarding-routes.ts) plans with that workflow and hands jobs to that queue, so a job asked for over HTTP
// runs as the identity providers' signals run: an `offboarding.depart` job in the shared queue, off the request path,
// one open per person, taken over from a dead replica after its lease.
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import type { OffboardingQueue } from '../offboarding/offboarding-queue.js';
import type { OffboardingWorkflow } from '../offboarding/offboarding-workflow.js';

export interface OffboardingRunner {
  workflow: OffboardingWorkflow;
  queue: OffboardingQueue;
}

const runners = new WeakMap<Kysely<OperationalSchema>, OffboardingRunner>();

/** Makes `runner` the one the API uses for this store; the returned function detaches it (server close). */
export function attachOffboardingRunner(db: Kysely<OperationalSchema>, runner: OffboardingRunner): () => void {
  runners.set(db, runner);
  return () => {
    if (runners.get(db) === runner) runners.delete(db);
  };
}

/** The attached runner, or undefined when this server runs no offboarding module. */
export function offboardingRunnerFor(db: Kysely<OperationalSchema>): OffboardingRunner | undefined {
  return runners.get(db);
}
