// Builds the offboarding workflow over what the composition root (src/app/keyledger-app.ts) opened: the store,
// the event log, the registry writer, the rotation services and the revoker. The identity sources (src/idp/) are
// passed in by whoever knows which are configured.
import type { Kysely } from 'kysely';
import type { KeyledgerApp } from '../app/keyledger-app.js';
import type { OperationalSchema } from '../db/operational-schema.js';
import type { IdentitySource } from '../directory/identity-source.js';
import type { EventLog } from '../events/event-log.js';
import type { KeyRevoker } from '../lifecycle/key-revocation.js';
import type { RotationServices } from '../lifecycle/rotation/rotation-services.js';
import type { RegistryConfig } from '../registry/registry-config.js';
import type { RegistryWriter } from '../registry/registry-writer.js';
import type { Clock } from '../runtime/clock.js';
import { writeOffboardingReport } from './offboarding-report-files.js';
import { type OffboardingDependencies, OffboardingWorkflow } from './offboarding-workflow.js';
import { sharedOwnerPolicy } from './shared-owner.js';

export interface OffboardingServicesContext {
  db: Kysely<OperationalSchema>;
  events: EventLog;
  clock: Clock;
  writer: RegistryWriter;
  config: RegistryConfig;
  rotation: RotationServices;
  revoker: KeyRevoker;
  identitySources?: readonly IdentitySource[];
}

export function createOffboardingWorkflow(
  context: OffboardingServicesContext,
  options: Pick<OffboardingDependencies, 'actor' | 'scheduleOptions' | 'onReport'> = {},
): OffboardingWorkflow {
  const { rotation } = context;
  return new OffboardingWorkflow({
    db: context.db,
    events: context.events,
    clock: context.clock,
    loadEntries: () => rotation.loadEntries(),
    writer: context.writer,
    rotations: {
      run: (due, scheduleOptions) => rotation.scheduler.run(due, scheduleOptions),
      doneSince: async (keyId, since) =>
        (await rotation.journal.list({ keyId, states: ['done'], limit: 20 })).find(
          (row) => row.trigger === 'owner-left' && row.created_at >= since,
        )?.rotation_id,
      ...(rotation.tickets
        ? {
            ticketOf: async (due) => {
              const ticket = await rotation.tickets!.ensureTicket(due);
              return { id: ticket.id, ...(ticket.url ? { url: ticket.url } : {}) };
            },
          }
        : {}),
    },
    revoke: (request) => context.revoker.revoke(request),
    identitySources: context.identitySources ?? [],
    sharedOwners: sharedOwnerPolicy(context.config),
    ...(rotation.tickets ? { tickets: rotation.tickets.sink } : {}),
    ...options,
  });
}

/** The workflow over an opened app (the CLI's and the server's): reports written to its data folder. */
export function offboardingWorkflowForApp(
  app: KeyledgerApp,
  options: { clock: Clock; actor: string; identitySources: readonly IdentitySource[]; tickets?: string },
): OffboardingWorkflow {
  return createOffboardingWorkflow(
    {
      db: app.operational.db,
      events: app.events,
      clock: options.clock,
      writer: app.writer,
      config: app.workspace.config,
      rotation: app.rotation({ ...(options.tickets ? { tickets: options.tickets } : {}), actor: options.actor }),
      revoker: app.revoker(),
      identitySources: options.identitySources,
    },
    { actor: options.actor, onReport: (report) => writeOffboardingReport(app.dataDir, report) },
  );
}
