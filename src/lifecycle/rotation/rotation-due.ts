// Due detection (docs/rotation.md): a key is due on schedule (`last_rotated + rotation_frequency_days`), when its
// expiry is near, when its owner has left, and on events — a leak found by the scanner, a manual request, a
// policy change — that happened since it was last rotated.
import type { PeopleDirectory } from '../../directory/people-directory.js';
import type { EventLog } from '../../events/event-log.js';
import type { KeyEntry } from '../../registry/key-entry-schema.js';
import { rotationDueDate } from '../../registry/policy/policy-rules.js';
import { parseInstant } from '../../registry/registry-dates.js';
import type { LoadedEntry } from '../../registry/registry-loader.js';
import type { RotationTrigger } from './rotation-states.js';

export interface DueKey {
  keyId: string;
  file: string;
  entry: KeyEntry;
  trigger: RotationTrigger;
  /** When it became (or becomes) due. */
  dueAt: Date;
  /** Why, in words, for tickets and output. */
  reason: string;
  /**
   * An open rotation of the key to drive to its end: given, the scheduler resumes it and never plans a new one (a
   * rotation that finished meanwhile must not be followed by a second, src/app/rotation-job-kinds.ts).
   */
  rotationId?: string;
}

/** Event types that ask for a rotation, and the trigger each means. `rotation_requested` carries its own. */
export const ROTATION_REQUEST_EVENTS: Readonly<Record<string, RotationTrigger>> = {
  finding: 'leak',
  rotation_requested: 'manual',
  'policy.changed': 'policy',
};

export interface DueDetectionOptions {
  now: Date;
  /** A key expiring within this many days is due (the policy's expiry_warning_days). */
  expiryWarningDays: number;
  people?: PeopleDirectory;
  /** Requests from the event log, by key id (see `rotationRequests`). */
  requests?: ReadonlyMap<string, { trigger: RotationTrigger; at: Date; reason: string }>;
}

/** The keys due now, each once, with the most urgent trigger: leak, owner-left, manual, policy, expiry, schedule. */
export function findDueKeys(entries: readonly LoadedEntry[], options: DueDetectionOptions): DueKey[] {
  const due: DueKey[] = [];
  const now = options.now.getTime();
  for (const { file, entry } of entries) {
    if (entry.status === 'revoked' || entry.status === 'retired') continue;
    const lastRotated = parseInstant(entry.last_rotated ?? entry.created_at)?.date.getTime() ?? 0;
    const candidates: DueKey[] = [];
    const request = options.requests?.get(entry.key_id);
    if (request && request.at.getTime() > lastRotated) {
      candidates.push({
        keyId: entry.key_id,
        file,
        entry,
        trigger: request.trigger,
        dueAt: request.at,
        reason: request.reason,
      });
    }
    const owner = entry.owner_individual ? options.people?.find(entry.owner_individual) : undefined;
    if (owner?.status === 'left') {
      const leftAt = parseInstant(owner.left_at)?.date ?? options.now;
      if (leftAt.getTime() > lastRotated) {
        candidates.push({
          keyId: entry.key_id,
          file,
          entry,
          trigger: 'owner-left',
          dueAt: leftAt,
          reason: `owner ${owner.email} left${owner.left_at ? ` on ${owner.left_at}` : ''}`,
        });
      }
    }
    const expiry = parseInstant(entry.expiration)?.date;
    if (expiry && expiry.getTime() - options.expiryWarningDays * 86_400_000 <= now) {
      candidates.push({
        keyId: entry.key_id,
        file,
        entry,
        trigger: 'expiry',
        dueAt: new Date(expiry.getTime() - options.expiryWarningDays * 86_400_000),
        reason: `expires ${entry.expiration}`,
      });
    }
    const scheduled = rotationDueDate(entry);
    if (scheduled && scheduled.getTime() <= now) {
      candidates.push({
        keyId: entry.key_id,
        file,
        entry,
        trigger: 'schedule',
        dueAt: scheduled,
        reason: `every ${entry.audit?.rotation_frequency_days} days, last rotated ${entry.last_rotated ?? entry.created_at}`,
      });
    }
    if (candidates.length)
      due.push(candidates.sort((a, b) => URGENCY.indexOf(a.trigger) - URGENCY.indexOf(b.trigger))[0]!);
  }
  return due.sort(
    (a, b) =>
      URGENCY.indexOf(a.trigger) - URGENCY.indexOf(b.trigger) ||
      a.dueAt.getTime() - b.dueAt.getTime() ||
      a.keyId.localeCompare(b.keyId),
  );
}

const URGENCY: readonly RotationTrigger[] = ['leak', 'owner-left', 'manual', 'policy', 'expiry', 'schedule'];

/** The latest rotation request per key from the event log (leak findings, manual requests, policy changes). */
export async function rotationRequests(
  events: EventLog,
  since: Date,
): Promise<Map<string, { trigger: RotationTrigger; at: Date; reason: string }>> {
  const requests = new Map<string, { trigger: RotationTrigger; at: Date; reason: string }>();
  for (const [type, trigger] of Object.entries(ROTATION_REQUEST_EVENTS)) {
    let afterSeq = 0;
    for (;;) {
      const page = await events.list({ type, since, afterSeq, limit: 10_000 });
      for (const event of page) {
        if (!event.keyId) continue;
        const given = typeof event.data.trigger === 'string' ? (event.data.trigger as RotationTrigger) : trigger;
        const reason =
          type === 'finding'
            ? `leak found${typeof event.data.location === 'string' ? ` at ${event.data.location}` : ''}`
            : `${type} by ${event.actor}`;
        requests.set(event.keyId, { trigger: given, at: new Date(event.at), reason });
      }
      if (page.length < 10_000) break;
      afterSeq = page.at(-1)!.seq;
    }
  }
  return requests;
}
