// The HR system's export as an identity source: the CSV or YAML people file the registry config names
// (`policy.people_directory`, read by src/directory/people-directory.ts, which `validate` keeps using as it is).
// Its `left` is `deprovisioned`; `left_at` is when. It cannot revoke sessions: it only knows who works here.
import { resolve } from 'node:path';
import type {
  DirectoryPerson,
  DirectoryUpdates,
  IdentitySource,
  PersonStatus,
} from '../../directory/identity-source.js';
import { loadPeopleDirectory, type Person } from '../../directory/people-directory.js';
import type { Clock } from '../../runtime/clock.js';

export const HR_FILE_SOURCE = 'hr-file';

/** A time before every other signal: an `active` row without a date never overrides what a provider said. */
const BEFORE_EVERYTHING = '1970-01-01T00:00:00.000Z';

export class HrFileSource implements IdentitySource {
  readonly name = HR_FILE_SOURCE;
  readonly #file: string;

  constructor(options: { file: string }) {
    this.#file = options.file;
  }

  async *listPeople(): AsyncIterable<DirectoryPerson> {
    const directory = await loadPeopleDirectory(this.#file);
    for (const person of directory.people()) yield hrPersonOf(person);
  }
}

export function hrPersonOf(person: Person): DirectoryPerson {
  const status: PersonStatus = person.status === 'left' ? 'deprovisioned' : person.status;
  const changedAt = person.left_at ? new Date(person.left_at) : undefined;
  return {
    id: person.email,
    email: person.email,
    ...(person.name ? { displayName: person.name } : {}),
    ...(person.team ? { team: person.team } : {}),
    status,
    ...(changedAt && !Number.isNaN(changedAt.getTime()) ? { statusChangedAt: changedAt.toISOString() } : {}),
    source: HR_FILE_SOURCE,
  };
}

/**
 * Feeds the HR file into the directory: one signal per person and status (a re-run adds nothing). A leaver's
 * signal is dated `left_at` (now when the file gives no date); an active row's is dated before everything, so a
 * stale export never brings back someone a provider deprovisioned.
 */
export async function syncHrFile(
  source: IdentitySource,
  directory: DirectoryUpdates,
  clock: Clock,
): Promise<{ people: number; departed: number }> {
  let people = 0;
  let departed = 0;
  for await (const person of source.listPeople()) {
    people += 1;
    const at = person.statusChangedAt ?? (person.status === 'active' ? BEFORE_EVERYTHING : clock().toISOString());
    const result = await directory.apply(
      {
        signalId: `${HR_FILE_SOURCE}:${person.email}:${person.status}:${person.statusChangedAt ?? ''}`,
        source: HR_FILE_SOURCE,
        email: person.email,
        status: person.status,
        at,
      },
      {
        ...(person.displayName ? { displayName: person.displayName } : {}),
        ...(person.team ? { team: person.team } : {}),
      },
    );
    if (result.departed) departed += 1;
  }
  return { people, departed };
}

export function hrFileSourceFrom(options: Record<string, unknown>, cwd: string): HrFileSource {
  const file = options.file;
  if (typeof file !== 'string' || file === '')
    throw new Error('the hr-file source needs `file`: the people CSV or YAML');
  return new HrFileSource({ file: resolve(cwd, file) });
}
