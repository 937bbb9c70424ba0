// Builds the rotation services over what the composition root (src/app/keyledger-app.ts) opened: the journal, the
// rotator, the scheduler, the controller, the ticket desk and the metrics.
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../../db/operational-schema.js';
import type { PeopleSource } from '../../directory/people-directory.js';
import type { EventLog } from '../../events/event-log.js';
import type { Provider } from '../../providers/provider.js';
import type { RegistryConfig } from '../../registry/registry-config.js';
import { type LoadedEntry, loadRegistry } from '../../registry/registry-loader.js';
import type { RegistryWriter } from '../../registry/registry-writer.js';
import type { Clock } from '../../runtime/clock.js';
import type { FingerprintKey } from '../../secrets/secret-fingerprint.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import { RotationTicketDesk } from '../../tickets/rotation-ticket-desk.js';
import { createTicketSink } from '../../tickets/ticket-sink-table.js';
import { createConsumerConfirmers } from './consumers/consumer-confirmer-table.js';
import { KeyRotator, type RotationOptions, type StuckRotationDesk } from './key-rotator.js';
import { RegistryRotationBatcher } from './registry-rotation-batcher.js';
import { RotationController } from './rotation-controller.js';
import { RotationJournal } from './rotation-journal.js';
import { RotationMetrics } from './rotation-metrics.js';
import { RotationScheduler } from './rotation-scheduler.js';

export interface RotationServicesContext {
  db: Kysely<OperationalSchema>;
  events: EventLog;
  writer: RegistryWriter;
  root: string;
  config: RegistryConfig;
  people?: PeopleSource;
  providers: (name: string) => Provider;
  stores: (name: string) => SecretStore;
  fingerprintKey: FingerprintKey;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  /** The working directory relative ticket paths are resolved against. */
  cwd?: string;
}

export interface RotationServiceOptions {
  /** `markdown:<dir>`, `github:<owner/repo>`, `jira:<PROJECT>`; default KEYLEDGER_TICKETS, then `tickets` in the config. */
  tickets?: string;
  rotation?: Partial<RotationOptions>;
  escalateAfterDays?: number;
  metrics?: RotationMetrics;
  actor?: string;
}

export interface RotationServices {
  journal: RotationJournal;
  rotator: KeyRotator;
  scheduler: RotationScheduler;
  controller: RotationController;
  metrics: RotationMetrics;
  tickets?: RotationTicketDesk;
  /** Every parseable registry entry, as the controller reads them. */
  loadEntries(): Promise<LoadedEntry[]>;
}

export function createRotationServices(
  context: RotationServicesContext,
  options: RotationServiceOptions = {},
): RotationServices {
  const metrics = options.metrics ?? new RotationMetrics();
  const isManual = (name: string) =>
    (context.config.providers[name] as { manual?: unknown } | undefined)?.manual === true;
  const journal = new RotationJournal(context.db, context.clock, context.events);
  // Finished rotations reach the registry a batch per commit: a commit per key made `rotate --due` over the sandbox
  // organisation's ~400 keys spend most of its time spawning git. A rotation waiting for its batch gives its
  // provider slot to the next key (releaseSlot).
  const batcher = new RegistryRotationBatcher({
    writer: context.writer,
    root: context.root,
    author: { name: context.config.git.author_name, email: context.config.git.author_email },
  });
  // The flag, then the environment (both relative to the working directory), then the registry's config.
  const given = options.tickets ?? context.env.KEYLEDGER_TICKETS;
  const sinkSpec = given ?? context.config.tickets;
  const sinkCwd = given ? context.cwd : context.root;
  const tickets = sinkSpec
    ? new RotationTicketDesk({
        db: context.db,
        sink: createTicketSink(sinkSpec, { env: context.env, ...(sinkCwd ? { cwd: sinkCwd } : {}) }),
        clock: context.clock,
        events: context.events,
        ...(options.escalateAfterDays !== undefined ? { escalateAfterDays: options.escalateAfterDays } : {}),
        onOpened: (sink) => metrics.ticketsOpened.inc({ sink }),
      })
    : undefined;
  const stuckRotations = tickets ? stuckRotationDesk(tickets, context.writer) : undefined;
  const rotator = new KeyRotator({
    providers: context.providers,
    stores: context.stores,
    writer: context.writer,
    registryRoot: context.root,
    journal,
    fingerprintKey: context.fingerprintKey,
    confirmers: createConsumerConfirmers({ clock: context.clock, env: context.env }),
    clock: context.clock,
    metrics,
    isManual,
    recordInRegistry: (record) => {
      scheduler.releaseSlot(record.keyId);
      return batcher.record(record);
    },
    ...(stuckRotations ? { stuckRotations } : {}),
    ...(options.actor ? { actor: options.actor } : {}),
    ...(options.rotation ? { options: options.rotation } : {}),
  });
  const scheduler = new RotationScheduler({
    rotator,
    providers: context.providers,
    isManual,
    ...(tickets ? { tickets } : {}),
    clock: context.clock,
    metrics,
  });
  // The due tick loads the registry every few seconds on every replica: through the load cache
  // (src/registry/registry-load-cache.ts) only the entry files changed since the last load are parsed again.
  const loadEntries = async () =>
    (
      await loadRegistry({
        root: context.root,
        config: context.config,
        applyPolicy: false,
        includeEntries: true,
        now: context.clock(),
        cache: true,
      })
    ).entries;
  const controller = new RotationController({
    rotator,
    scheduler,
    loadEntries,
    events: context.events,
    clock: context.clock,
    metrics,
    ...(tickets ? { tickets } : {}),
    ...(context.people ? { people: context.people } : {}),
    expiryWarningDays: context.config.policy.expiry_warning_days,
  });
  return { journal, rotator, scheduler, controller, metrics, loadEntries, ...(tickets ? { tickets } : {}) };
}

/** A rollback that cannot finish is a ticket to the key's owner (through the desk's sink), closed when it finishes. */
export function stuckRotationDesk(tickets: RotationTicketDesk, writer: RegistryWriter): StuckRotationDesk {
  return {
    opened: async (row) => {
      const entry = (await writer.read(row.key_id).catch(() => undefined))?.entry;
      await tickets.ensureStuckRotationTicket({
        keyId: row.key_id,
        rotationId: row.rotation_id,
        provider: row.provider,
        state: row.state,
        failure: row.failure ?? '',
        liveProviderKeyIds: row.new_provider_key_id ? [row.new_provider_key_id] : [],
        since: new Date(row.state_entered_at),
        ...(entry ? { entry } : {}),
      });
    },
    cleared: async (row) => {
      await tickets.closeStuckRotationTicket(
        row.rotation_id,
        `Closed by keyledger: the rotation ended ${row.state}; it holds no live key any more.`,
      );
    },
  };
}
