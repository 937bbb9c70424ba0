// The people that owners are judged by, as the directory has them now: the people file with what the identity
// sources said laid over it (src/directory/people-with-signals.ts). A long-running server must see a SCIM or HR
// deprovisioning in rotation's owner-left trigger without a restart, and other replicas write the same store, so
// this reads through to the store on every call; it lists and merges the people again only when the store's
// revision moved (src/directory/directory-store.ts, revision).
import type { DirectoryPerson } from './identity-source.js';
import type { PeopleDirectory } from './people-directory.js';
import { peopleWithSignals } from './people-with-signals.js';

/** The part of DirectoryStore this reads. */
export interface DirectoryPeopleReader {
  revision(): Promise<string>;
  list(): Promise<DirectoryPerson[]>;
}

export class CurrentPeople {
  readonly #file: PeopleDirectory | undefined;
  readonly #directory: DirectoryPeopleReader;
  #cached?: { revision: string; people: PeopleDirectory | undefined };

  /** `file`: the registry's people file (the workspace's), which the directory's people override and extend. */
  constructor(file: PeopleDirectory | undefined, directory: DirectoryPeopleReader) {
    this.#file = file;
    this.#directory = directory;
  }

  /** The people now: the cached merge while the directory's revision is unchanged, else a fresh one. */
  async get(): Promise<PeopleDirectory | undefined> {
    // The revision is read before the people: a write landing in between is read again on the next call.
    const revision = await this.#directory.revision();
    if (this.#cached?.revision === revision) return this.#cached.people;
    const heard = await this.#directory.list();
    const people = heard.length > 0 ? peopleWithSignals(this.#file, heard) : this.#file;
    this.#cached = { revision, people };
    return people;
  }
}
