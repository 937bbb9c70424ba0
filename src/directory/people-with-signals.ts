// How registry owners resolve against the directory: the people file (src/directory/people-directory.ts) with what
// the identity sources have said since laid over it. A person a provider deprovisioned is `left` (dated when it
// happened) even while the HR export still lists them as active, so `validate`, `audit` and rotation's
// owner-left trigger see a departure as soon as a signal is heard, not when someone edits the CSV.
import type { DirectoryPerson } from './identity-source.js';
import { PeopleDirectory, type Person } from './people-directory.js';

/** The file's people, overridden and extended by the directory's (status, team, name). */
export function peopleWithSignals(
  file: PeopleDirectory | undefined,
  directory: readonly DirectoryPerson[],
): PeopleDirectory {
  const byEmail = new Map<string, Person>();
  for (const person of file?.people() ?? []) byEmail.set(person.email.toLowerCase(), person);
  for (const person of directory) {
    const email = person.email.toLowerCase();
    const fromFile = byEmail.get(email);
    const name = person.displayName ?? fromFile?.name;
    const team = person.team ?? fromFile?.team;
    const leftAt = person.status === 'active' ? undefined : (person.statusChangedAt ?? fromFile?.left_at);
    byEmail.set(email, {
      email,
      ...(name ? { name } : {}),
      ...(team ? { team } : {}),
      status: person.status === 'deprovisioned' ? 'left' : person.status,
      ...(leftAt ? { left_at: leftAt } : {}),
    });
  }
  return new PeopleDirectory(byEmail.values());
}

/** Every person, directory first, then the file's people the directory has not heard of (source `hr-file`). */
export function mergedPeople(
  file: PeopleDirectory | undefined,
  directory: readonly DirectoryPerson[],
): DirectoryPerson[] {
  const known = new Set(directory.map((person) => person.email.toLowerCase()));
  const fromFile: DirectoryPerson[] = (file?.people() ?? [])
    .filter((person) => !known.has(person.email.toLowerCase()))
    .map((person) => ({
      id: person.email,
      email: person.email,
      ...(person.name ? { displayName: person.name } : {}),
      ...(person.team ? { team: person.team } : {}),
      status: person.status === 'left' ? 'deprovisioned' : person.status,
      ...(person.left_at ? { statusChangedAt: person.left_at } : {}),
      source: 'hr-file',
    }));
  return [...directory, ...fromFile];
}
