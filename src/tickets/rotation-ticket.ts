// The rotation-ticket template (docs/rotation.md): title, owner, provider, vault path and the five checklist steps,
// plus a hidden marker with the dedupe key so the ticket can be found again on re-runs. Also the ticket of a rotation
// whose rollback cannot finish and that holds a live key (key-rotator.ts, `stuck`).
import { entryStorageRef, type KeyEntry } from '../registry/key-entry-schema.js';
import { formatDate } from '../registry/registry-dates.js';
import type { RotationTicket } from './ticket-sink.js';

export const ROTATION_TICKET_LABEL = 'keyledger-rotation';

/** One ticket per key and per rotation it asks for: a rotation moves `last_rotated`, so the next one is a new ticket. */
export function rotationDedupeKey(entry: KeyEntry): string {
  return `${entry.key_id}@${entry.last_rotated ?? entry.created_at ?? 'never'}`;
}

export function dedupeMarker(dedupeKey: string): string {
  return `<!-- keyledger:rotation-ticket ${dedupeKey} -->`;
}

export function renderRotationTicket(entry: KeyEntry, dueAt: Date, reason?: string): RotationTicket {
  const dedupeKey = rotationDedupeKey(entry);
  const provider = entry.scope?.provider ?? 'unknown provider';
  const storage = entryStorageRef(entry);
  const vaultPath = storage
    ? storage.store === 'vault'
      ? storage.path
      : `${storage.store}:${storage.path}`
    : '(no storage recorded)';
  const owner = `${entry.owner_individual ?? '(no individual owner)'} / ${entry.owner_team ?? '(no team)'}`;
  const due = formatDate(dueAt);
  const body = [
    `Key ${entry.key_id} is due for rotation by ${due}.${reason ? ` (${reason})` : ''}`,
    '',
    `Owner: ${owner}`,
    `Provider: ${provider}`,
    `Vault path: ${vaultPath}`,
    '',
    'Steps:',
    `- [ ] Mint new key in ${provider} UI`,
    '- [ ] Update Vault path',
    '- [ ] Confirm consumers using new key (synthetic test)',
    `- [ ] Revoke old key in ${provider} UI`,
    "- [ ] Update registry's last_rotated timestamp",
    '',
    dedupeMarker(dedupeKey),
  ].join('\n');
  return {
    dedupeKey,
    keyId: entry.key_id,
    title: `Rotate ${entry.key_id} (due ${due})`,
    body,
    ownerTeam: entry.owner_team ?? 'unowned',
    ...(entry.owner_individual ? { ownerIndividual: entry.owner_individual } : {}),
    dueAt,
    labels: [ROTATION_TICKET_LABEL, `team:${entry.owner_team ?? 'unowned'}`],
  };
}

/** Dedupe keys of stuck-rotation tickets start with this; the due-date sweep leaves them alone. */
export const STUCK_TICKET_PREFIX = 'stuck:';

/** A rotation whose rollback (or promote) keeps failing: what its ticket says. No secret in it. */
export interface StuckRotation {
  keyId: string;
  rotationId: string;
  provider: string;
  state: string;
  /** What keeps failing, as the journal's `failure` says it. */
  failure: string;
  /** Provider keys the rotation minted that are still live. */
  liveProviderKeyIds: string[];
  since: Date;
  entry?: KeyEntry;
}

export function stuckRotationDedupeKey(rotationId: string): string {
  return `${STUCK_TICKET_PREFIX}${rotationId}`;
}

export function renderStuckRotationTicket(stuck: StuckRotation): RotationTicket {
  const dedupeKey = stuckRotationDedupeKey(stuck.rotationId);
  const entry = stuck.entry;
  const owner = `${entry?.owner_individual ?? '(no individual owner)'} / ${entry?.owner_team ?? '(no team)'}`;
  const live = stuck.liveProviderKeyIds.length ? stuck.liveProviderKeyIds.join(', ') : '(none: only clean-up is left)';
  const body = [
    `The rotation ${stuck.rotationId} of ${stuck.keyId} cannot finish (${stuck.state}) and keeps being retried.`,
    '',
    `Owner: ${owner}`,
    `Provider: ${stuck.provider}`,
    `Live keys it minted: ${live}`,
    `Failure: ${stuck.failure}`,
    '',
    'Steps:',
    '- [ ] Fix what the failure names (the store, the provider credentials, the consumer)',
    '- [ ] Run `keyledger rotate --resume` (or wait for the controller to retry)',
    '- [ ] Check `keyledger rotate --status` no longer lists it',
    '',
    dedupeMarker(dedupeKey),
  ].join('\n');
  return {
    dedupeKey,
    keyId: stuck.keyId,
    title: `Rotation of ${stuck.keyId} is stuck holding ${stuck.liveProviderKeyIds.length} live key(s)`,
    body,
    ownerTeam: entry?.owner_team ?? 'unowned',
    ...(entry?.owner_individual ? { ownerIndividual: entry.owner_individual } : {}),
    dueAt: stuck.since,
    labels: [ROTATION_TICKET_LABEL, 'rotation-stuck', `team:${entry?.owner_team ?? 'unowned'}`],
  };
}
