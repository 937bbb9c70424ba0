// The rotation-ticket template (docs/rotation.md): title, owner, provider, vault path and the five checklist steps,
// plus a hidden marker with the dedupe key so the ticket can be found again on re-runs.
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
