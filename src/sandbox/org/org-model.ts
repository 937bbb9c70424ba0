// The shape of a generated organisation: its people, teams and keys, each key with the truth about it (who made
// it, whether the registry knows it, whom the registry names) so that audits and benches can be scored.

export interface OrgPerson {
  email: string;
  name: string;
  login: string;
  team: string;
  status: 'active' | 'left';
  joinedAt: string;
  leftAt?: string;
  /** The person's numeric id at providers that number users (GitLab). */
  userNumber: number;
}

export interface OrgKey {
  /** The registry's key_id (also the ground truth's id for keys the registry does not know). */
  keyId: string;
  provider: string;
  kind: string;
  account: string;
  providerKeyId: string;
  secret: string;
  publicKey?: string;
  name: string;
  description: string;
  createdBy: string;
  /**
   * The provider user the key acts as when that is not its creator: the team's machine user holding a GitHub token
   * made for a service (a user account no people directory lists, as GitHub's docs describe machine users).
   */
  holder?: string;
  /** The team that really uses and owns the key. */
  team: string;
  consumers: string[];
  permissions: string[];
  admin: boolean;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt?: string;
  category: string;
  /** The sources the registry entry declares the key is used from (`expected_sources`), when it declares any. */
  expectedSources?: string[];
  /**
   * A planted anomaly: the provider's audit log shows a use of the key from this address, outside its
   * `expectedSources` (a stolen copy in use elsewhere).
   */
  strayUseFrom?: string;
  /**
   * A planted anomaly: the registry entry says `revoked`, but the key was never deleted at the provider and its
   * recorded use came after (someone still holds it). Unset: the entry is active.
   */
  registryStatus?: 'revoked';
  /**
   * History keyledger made: the key is the successor a rotation minted (at `rotatedAt`, when the key was created),
   * replacing `previousKeyId`, which the rotation revoked at the provider. A planted anomaly rides on it: a call made
   * with the replaced key after the rotation (`usedAt`, from `usedFrom`), refused by the provider and recorded in its
   * audit log — someone still holds the old key. The rotation's journal row is written through keyledger's own
   * journal (org-rotation-history.ts); only the journal knows that `previousKeyId` was this entry's key.
   */
  rotatedOut?: RotatedOutKeyUse;
  /**
   * A planted use of an unregistered key shared between teams: one call from each consuming team's services, each
   * from an address that team's registry entries declare (`expected_sources`), so that the audit logs tell the
   * teams apart. Unset where the provider's sandbox keeps no history of uses, or a consuming team declares no
   * address of its own.
   */
  sharedUseFrom?: string[];
  /** Whether a registry entry exists, and whom it names. */
  registered: boolean;
  registryOwnerIndividual?: string;
  registryOwnerTeam?: string;
  /** The brief's findings, true by construction. */
  noClearOwner: boolean;
  ownerLeft: boolean;
  unusedDays: number | null;
}

export interface RotatedOutKeyUse {
  previousKeyId: string;
  rotatedAt: string;
  usedAt: string;
  usedFrom: string;
}

export interface OrgSummary {
  profile: string;
  seed: number;
  now: string;
  people: number;
  leavers: number;
  teams: number;
  keys: number;
  noClearOwner: number;
  unregistered: number;
  ownerLeft: number;
  adminScope: number;
  sharedBetweenTeams: number;
  unused90Days: number;
  neverUsed: number;
  byProvider: Record<string, number>;
}

export interface Organisation {
  name: string;
  domain: string;
  summary: OrgSummary;
  teams: string[];
  /** Repositories per team (GitHub), `org/<repo>` without the org. */
  repositories: Record<string, string[]>;
  people: OrgPerson[];
  keys: OrgKey[];
}
