// What an identity source tells us and what we can ask of it (docs/offboarding.md). Sources are adapters, one
// folder each under src/idp/ (the HR file, the SCIM server, Okta, Microsoft Entra, Google Workspace), reached
// through src/idp/identity-source-table.ts. A source reports people and their status changes as signals; the
// directory (src/directory/) keeps the people, deduplicates signals by id, and tells departure listeners
// (the offboarding workflow, src/offboarding/) when someone leaves or is suspended.

/** `deprovisioned` is a person who left (the HR file's `left`); `suspended` may come back but holds nothing now. */
export type PersonStatus = 'active' | 'suspended' | 'deprovisioned';

export interface DirectoryPerson {
  /** Our id for the person (stable; SCIM's `id`). */
  id: string;
  /** Lower-cased work email: how registry entries name owners (`owner_individual`). */
  email: string;
  userName?: string | undefined;
  /** The identity provider's own id (SCIM `externalId`, Okta user id, Entra object id, Google user id). */
  externalId?: string | undefined;
  displayName?: string | undefined;
  team?: string | undefined;
  managerEmail?: string | undefined;
  status: PersonStatus;
  /** When the status last changed, as the source says (ISO 8601). */
  statusChangedAt?: string | undefined;
  /** The source that last set the status: `hr-file`, `scim`, `okta`, `entra`, `google`, `reconcile`. */
  source: string;
}

/** One status change heard from a source. Delivery is at least once and may be out of order. */
export interface DirectorySignal {
  /** Deduplication key: the Okta event's uuid, a hash of the SCIM request, `reconcile:<source>:<id>:<status>`. */
  signalId: string;
  source: string;
  email: string;
  status: PersonStatus;
  /** When it happened at the source (ISO 8601); an older signal never overrides a newer status. */
  at: string;
}

/** Called once per person per departure (status leaves `active`), after the directory has recorded it. */
export type DepartureListener = (person: DirectoryPerson, signal: DirectorySignal) => Promise<void>;

/** An identity provider we can read (reconciliation) and act on (session revocation). */
export interface IdentitySource {
  readonly name: string;
  /** Everyone the source knows, with their status, for `offboard --reconcile`. */
  listPeople(): AsyncIterable<DirectoryPerson>;
  /** Ends the person's sessions and OAuth tokens at the source; absent where the source cannot (the HR file). */
  revokeSessions?(person: DirectoryPerson): Promise<{ revoked: boolean; detail: string }>;
}

/**
 * The directory as sources write to it and the offboarding workflow reads it (src/directory/directory-store.ts
 * implements it over the operational store).
 */
export interface DirectoryUpdates {
  /**
   * Records a signal. A signal id seen before is a duplicate and changes nothing; a signal older than the
   * person's last status change is kept in the history and changes nothing. `departed` is true when this signal
   * took the person from `active` to `suspended` or `deprovisioned`, and the departure listeners have been called.
   */
  apply(
    signal: DirectorySignal,
    details?: Partial<Omit<DirectoryPerson, 'status' | 'statusChangedAt' | 'source'>>,
  ): Promise<{ person: DirectoryPerson; departed: boolean; duplicate: boolean }>;
  onDeparture(listener: DepartureListener): () => void;
  /** By id, email (any case) or userName. */
  find(idOrEmail: string): Promise<DirectoryPerson | undefined>;
  list(filter?: { status?: PersonStatus; team?: string }): Promise<DirectoryPerson[]>;
}
