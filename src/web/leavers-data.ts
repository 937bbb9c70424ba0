// Who left and how far their keys' offboarding got, in one place: people come from the directory the registry
// config names (src/directory/people-directory.ts), keys from the registry snapshot, open rotations from the
// journal. When the offboarding job table arrives (src/offboarding/), its progress joins here and nowhere else.
import type { RotationJournal } from '../lifecycle/rotation/rotation-journal.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import type { ServerContext } from '../server/server-module.js';
import type { Snapshot } from './registry-snapshot.js';

export interface LeaverProgress {
  email: string;
  name?: string | undefined;
  team?: string | undefined;
  leftAt?: string | undefined;
  /** Keys still naming the leaver as owner and still live (active or rotating). */
  liveKeys: KeyEntry[];
  /** Of those, keys with a rotation under way. */
  rotating: number;
  /** Keys naming the leaver that are revoked or retired (done). */
  closedKeys: number;
}

export async function leaversWithProgress(
  app: ServerContext['app'],
  snapshot: Snapshot,
  journal: RotationJournal,
): Promise<LeaverProgress[]> {
  const people = app.workspace.people?.people().filter((person) => person.status === 'left') ?? [];
  const byOwner = new Map<string, KeyEntry[]>();
  for (const { entry } of snapshot.entries) {
    const owner = entry.owner_individual?.toLowerCase();
    if (owner) byOwner.set(owner, [...(byOwner.get(owner) ?? []), entry]);
  }
  const open = new Set((await journal.unfinished()).map((row) => row.key_id));
  return people
    .map((person) => {
      const keys = byOwner.get(person.email) ?? [];
      const live = keys.filter((entry) => entry.status === 'active' || entry.status === 'rotating');
      return {
        email: person.email,
        name: person.name,
        team: person.team,
        leftAt: person.left_at,
        liveKeys: live,
        rotating: live.filter((entry) => open.has(entry.key_id)).length,
        closedKeys: keys.length - live.length,
      };
    })
    .sort((a, b) => b.liveKeys.length - a.liveKeys.length || a.email.localeCompare(b.email));
}
