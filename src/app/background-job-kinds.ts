// The fleet's background work besides rotations as queue jobs (docs/scale-out.md): `discovery.run` lists every
// configured provider's keys (src/audit/key-discovery.ts, as `keyledger discover`), `audit-log.ingest` counts the
// configured audit-log files not counted before (src/audit/scheduled-audit-log-ingest.ts), and `tickets.sync`
// closes the rotation tickets whose key was rotated and escalates the overdue ones (src/tickets/rotation-ticket-desk.ts)
// with the queue's retries and back-off when the ticket system fails. Each is safe to run again after its holder died:
// discovery overwrites its observations, the ingest records each file with its counts, the sweep acts once per ticket.
import type { Registry } from 'prom-client';
import { AuditLogFiles } from '../audit/audit-log-files.js';
import { AuditMetrics } from '../audit/audit-metrics.js';
import { AuditUsageStore } from '../audit/audit-usage-store.js';
import { discoverKeys } from '../audit/key-discovery.js';
import { ingestNewAuditLogFiles } from '../audit/scheduled-audit-log-ingest.js';
import { auditLogReaderTable } from '../audit-logs/audit-log-reader-table.js';
import type { JobKind } from '../jobs/job-kind.js';
import type { EnqueueInput } from '../jobs/job-queue.js';
import type { ScheduledJob } from '../jobs/job-schedule.js';
import type { RotationServices } from '../lifecycle/rotation/rotation-services.js';
import type { Clock } from '../runtime/clock.js';
import type { KeyledgerApp } from './keyledger-app.js';
import type { ScheduledJobsConfig } from './scheduled-jobs-config.js';

export const DISCOVERY_RUN = 'discovery.run';
export const AUDIT_LOG_INGEST = 'audit-log.ingest';
export const TICKETS_SYNC = 'tickets.sync';

/** The kinds `keyledger jobs enqueue` may add by hand (the others belong to the workflows that queue them). */
export const ENQUEUEABLE_JOB_KINDS = [DISCOVERY_RUN, AUDIT_LOG_INGEST, TICKETS_SYNC] as const;

/**
 * The job of each kind: one open at a time (a tick that finds the last run still going adds nothing), few attempts
 * (the next tick runs it again anyway).
 */
export function backgroundJob(kind: (typeof ENQUEUEABLE_JOB_KINDS)[number]): EnqueueInput {
  return { kind, payload: {}, dedupeKey: kind, maxAttempts: kind === TICKETS_SYNC ? 8 : 3 };
}

/** The schedules the server's config turns on (none by default). */
export function backgroundSchedules(config: ScheduledJobsConfig | undefined): ScheduledJob[] {
  const schedules: ScheduledJob[] = [];
  if (config?.discovery)
    schedules.push({ name: DISCOVERY_RUN, cron: config.discovery.schedule, job: backgroundJob(DISCOVERY_RUN) });
  if (config?.auditLogIngest)
    schedules.push({
      name: AUDIT_LOG_INGEST,
      cron: config.auditLogIngest.schedule,
      job: backgroundJob(AUDIT_LOG_INGEST),
    });
  return schedules;
}

export function backgroundJobKinds(options: {
  app: KeyledgerApp;
  services: RotationServices;
  config: ScheduledJobsConfig | undefined;
  clock: Clock;
  actor: string;
}): { kinds: JobKind[]; registry: Registry } {
  const { app, services, config, clock } = options;
  const kinds: JobKind[] = [];
  kinds.push({
    kind: DISCOVERY_RUN,
    run: async () => {
      const configured = app.configuredProviders();
      const wanted = config?.discovery?.providers ?? configured;
      const unknown = wanted.filter((name) => !configured.includes(name));
      if (unknown.length > 0) throw new Error(`discovery: providers not configured: ${unknown.join(', ')}`);
      const results = await discoverKeys({
        providers: wanted.map((name) => ({ name, provider: () => app.provider(name) })),
        db: app.operational.db,
        clock,
      });
      // A provider whose listing failed is reported, not retried here: the next tick lists it again.
      return {
        providers: results.map((result) => ({
          provider: result.provider,
          listed: result.listed,
          new: result.new,
          gone: result.gone,
          ...(result.error ? { error: result.error.code } : {}),
          ...(result.unsupported ? { unsupported: true } : {}),
        })),
      };
    },
  });
  const metrics = new AuditMetrics();
  kinds.push({
    kind: AUDIT_LOG_INGEST,
    run: async () => {
      const ingest = config?.auditLogIngest;
      if (!ingest) return { skipped: 'no auditLogIngest in the server configuration' };
      return ingestNewAuditLogFiles({
        paths: ingest.paths,
        readers: ingest.format === 'auto' ? Object.values(auditLogReaderTable) : [auditLogReaderTable[ingest.format]],
        loadEntries: async () => (await services.loadEntries()).map(({ entry }) => entry),
        store: new AuditUsageStore(app.operational.db),
        files: new AuditLogFiles(app.operational.db),
        events: app.events,
        actor: options.actor,
        clock,
        minAgeMs: ingest.minAgeSeconds * 1000,
        onUnauthorisedUse: (keyId) => metrics.unauthorisedUse.inc({ key_id: keyId }),
      });
    },
  });
  kinds.push({
    kind: TICKETS_SYNC,
    run: async () => {
      if (!services.tickets) return { skipped: 'no ticket sink configured' };
      // Throwing (the ticket system is down) retries the sweep after the queue's back-off.
      const sweep = await services.tickets.sweep(await services.loadEntries());
      return { closed: sweep.closed.length, escalated: sweep.escalated.length };
    },
  });
  return { kinds, registry: metrics.registry };
}
