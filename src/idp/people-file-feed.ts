// The HR file as a feed of the directory store (docs/offboarding.md, "Identity sources"): the people the registry's
// people file lists, already loaded by the workspace, applied as hr-file signals (src/idp/hr-file/hr-file-source.ts
// syncHrFile), so a `left` row is a departure the offboarding workflow hears like a SCIM deprovision. The core
// (`keyledger offboard`) reaches the HR source's folder only through this file, beside the identity-source table.
import type { DirectoryPerson, DirectoryUpdates, IdentitySource } from '../directory/identity-source.js';
import type { Person } from '../directory/people-directory.js';
import type { Clock } from '../runtime/clock.js';
import { HR_FILE_SOURCE, hrPersonOf, syncHrFile } from './hr-file/hr-file-source.js';

/** Applies every person of the loaded people file to the directory; a re-run adds nothing (signal ids repeat). */
export function feedPeopleFile(
  people: Iterable<Person>,
  directory: DirectoryUpdates,
  clock: Clock,
): Promise<{ people: number; departed: number }> {
  const listed = [...people];
  const source: IdentitySource = {
    name: HR_FILE_SOURCE,
    async *listPeople(): AsyncIterable<DirectoryPerson> {
      for (const person of listed) yield hrPersonOf(person);
    },
  };
  return syncHrFile(source, directory, clock);
}
