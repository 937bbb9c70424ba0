// The rotation controller's work as jobs (docs/scale-out.md): `rotation.due-tick` runs once per tick across the fleet
// (src/jobs/job-schedule.ts) — it finds the due keys and the rotations a crash left unfinished, queues one
// `rotation.rotate` job per key (one open job per key: the queue's dedupe key), and queues the ticket sync —
// and `rotation.rotate` rotates one key on whichever replica claims it, through the rotation scheduler (tickets for
// manual providers, waits for a provider's 429, the journal's resume of a crashed run). The rotation journal's
// unique open row per key stops a second plan even if two jobs ever ran for one key.

import { JobInterrupted, type JobKind, RetryJobAt } from '../jobs/job-kind.js';
import type { EnqueueInput, JobQueue } from '../jobs/job-queue.js';
import type { DueKey } from '../lifecycle/rotation/rotation-due.js';
import type { RotationServices } from '../lifecycle/rotation/rotation-services.js';
import type { RotationTrigger } from '../lifecycle/rotation/rotation-states.js';
import type { RegistryWriter } from '../registry/registry-writer.js';
import type { Clock } from '../runtime/clock.js';
import { backgroundJob, TICKETS_SYNC } from './background-job-kinds.js';

export const ROTATION_DUE_TICK = 'rotation.due-tick';
export const ROTATION_ROTATE = 'rotation.rotate';

export interface RotateJobPayload {
  keyId: string;
  trigger: RotationTrigger;
  /** When the tick found the key due: a rotation of it that finished since makes the job moot. */
  foundAt: string;
  /**
   * The provider key the tick saw in the entry: a finished rotation that replaced it makes the job moot whatever the
   * clocks say (the tick may have read the entry just before that rotation's registry commit landed).
   */
  providerKeyId?: string;
}

/** A `rotation.rotate` job for a key, one open per key. */
export function rotateJob(payload: RotateJobPayload): EnqueueInput {
  return { kind: ROTATION_ROTATE, payload: { ...payload }, dedupeKey: `rotation:${payload.keyId}` };
}

export function rotationJobKinds(options: {
  services: RotationServices;
  writer: RegistryWriter;
  queue: JobQueue;
  clock: Clock;
  /** Wait before trying a key whose journal row another live worker holds. */
  busyRetryMs?: number;
}): [JobKind, JobKind<RotateJobPayload>] {
  const { services, writer, queue, clock } = options;
  const tick: JobKind = {
    kind: ROTATION_DUE_TICK,
    // A tick that fails is not retried for long: the next tick finds the same keys.
    maxAttempts: 3,
    run: async () => {
      const foundAt = clock().toISOString();
      const unfinished = await services.journal.unfinished();
      const due = await services.controller.findDue();
      const jobs = [
        ...unfinished.map((row) =>
          rotateJob({
            keyId: row.key_id,
            trigger: row.trigger as RotationTrigger,
            foundAt,
            ...(row.old_provider_key_id ? { providerKeyId: row.old_provider_key_id } : {}),
          }),
        ),
        ...due.map((key) =>
          rotateJob({
            keyId: key.keyId,
            trigger: key.trigger,
            foundAt,
            ...(key.entry.provider_key_id ? { providerKeyId: String(key.entry.provider_key_id) } : {}),
          }),
        ),
      ];
      const queued = await queue.enqueueMany(jobs);
      // Ticket sync once per tick for the fleet, as a job of its own (background-job-kinds.ts): a ticket system
      // that is down delays it with the queue's back-off instead of failing the tick.
      const ticketSync = services.tickets ? await queue.enqueue(backgroundJob(TICKETS_SYNC)) : undefined;
      return {
        due: due.length,
        unfinished: unfinished.length,
        queued: queued.length,
        ...(ticketSync ? { ticketSync: ticketSync.job_id } : {}),
      };
    },
  };
  const rotate: JobKind<RotateJobPayload> = {
    kind: ROTATION_ROTATE,
    run: async ({ keyId, trigger, foundAt, providerKeyId }, { signal }) => {
      // A replica that read the registry before another finished this key's rotation queued a stale finding.
      const [last] = await services.journal.list({ keyId, states: ['done'], limit: 1 });
      const open = await services.journal.openForKey(keyId);
      if (!open && last && last.updated_at >= foundAt)
        return { status: 'already-rotated', rotationId: last.rotation_id };
      const replaced = !open && providerKeyId ? await services.journal.replacedBy(keyId, providerKeyId) : undefined;
      if (replaced) return { status: 'already-rotated', rotationId: replaced.rotation_id };
      const found = await writer.read(keyId);
      if (!found) return { status: 'no-entry' };
      // The entry moved on from the key the tick saw (a rotation finished since): nothing is due from that finding.
      if (!open && providerKeyId && String(found.entry.provider_key_id ?? '') !== providerKeyId)
        return { status: 'already-rotated', providerKeyId: String(found.entry.provider_key_id ?? '') };
      const due: DueKey = {
        keyId,
        file: found.file,
        entry: found.entry,
        trigger,
        dueAt: new Date(foundAt),
        reason: open ? 'resuming an unfinished rotation' : `queued by the due tick at ${foundAt}`,
        // An open rotation is driven, never planned anew: it may finish before a plan would read the entry, and a
        // plan then would start a second rotation of a key that no longer is due.
        ...(open ? { rotationId: open.rotation_id } : {}),
      };
      const report = await services.scheduler.run([due], { signal });
      if (report.errors.length > 0) throw new Error(report.errors[0]!.error);
      if (signal.aborted && report.deferred > 0) return new JobInterrupted('stopped with the rotation in flight');
      if (report.busy > 0)
        return new RetryJobAt(
          new Date(clock().getTime() + (options.busyRetryMs ?? 5_000)),
          'another live worker holds the rotation',
        );
      return {
        status:
          report.done > 0
            ? 'done'
            : report.rolledBack > 0
              ? 'rolled-back'
              : report.failed > 0
                ? 'failed'
                : report.stuck > 0
                  ? 'stuck'
                  : report.tickets.opened + report.tickets.existing > 0
                    ? 'ticket'
                    : 'nothing',
      };
    },
  };
  return [tick, rotate];
}
