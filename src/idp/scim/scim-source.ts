// The SCIM server as an identity source: the people SCIM clients provisioned into the directory, as they left
// them (a deleted resource is a deprovisioned person). It pushes rather than being asked, so reconciliation reads
// what was pushed; sessions are the identity provider's to revoke, not SCIM's.
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../../db/operational-schema.js';
import { DirectoryStore } from '../../directory/directory-store.js';
import type { DirectoryPerson, IdentitySource } from '../../directory/identity-source.js';
import type { Clock } from '../../runtime/clock.js';
import { SCIM_SOURCE } from './scim-module.js';

export class ScimSource implements IdentitySource {
  readonly name = SCIM_SOURCE;
  readonly #directory: DirectoryStore;

  constructor(options: { db: Kysely<OperationalSchema>; clock: Clock }) {
    this.#directory = new DirectoryStore(options);
  }

  async *listPeople(): AsyncIterable<DirectoryPerson> {
    for (const record of await this.#directory.listRecords()) {
      // Provisioned through SCIM: the resource carries what the client sent (at least its userName).
      if (record.person.userName === undefined) continue;
      yield record.deletedAt ? { ...record.person, status: 'deprovisioned' } : record.person;
    }
  }
}
