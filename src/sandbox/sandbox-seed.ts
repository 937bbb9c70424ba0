// The shape in which an organisation (src/sandbox/org/) is loaded into the provider sandboxes: the keys each
// provider holds, with their secrets so the sandbox can authenticate them, and the people who own them.

export interface SandboxSeedKey {
  /** The adapter name (`aws-iam`, `github`, `gitlab`, ...). */
  provider: string;
  /** The provider's kind of credential: `iam-access-key`, `fine-grained-pat`, `deploy-key`, `project-access-token`... */
  kind: string;
  /** What the key hangs off, as the adapter's ProviderKeyRef.account names it (AWS user, `acme/api`, `project:12`). */
  account: string;
  providerKeyId: string;
  secret: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt?: string;
  status: 'active' | 'inactive' | 'revoked';
  /** The person who created it, by email, when a person did. */
  createdBy?: string;
  /** The provider user the key acts as when not its creator (a machine user's login). */
  holder?: string;
  permissions: string[];
  /** For SSH keys (GitHub deploy keys): the public half the provider holds. */
  publicKey?: string;
  /** A planted use of the key from this address, beside its ordinary ones (an audit-log anomaly to be found). */
  strayUseFrom?: string;
  /** Uses from these addresses, one each, instead of the key's own one (a key several teams' services call). */
  sharedUseFrom?: string[];
  /**
   * The key a rotation replaced with this one (revoked at the provider then), its use before the rotation and a
   * planted call with it after, which the provider refused (an audit-log anomaly to be found).
   */
  rotatedOut?: { previousKeyId: string; rotatedAt: string; usedAt: string; usedFrom: string };
}

export interface SandboxSeedPerson {
  email: string;
  name: string;
  /** The person's user name at providers (`alice.smith`). */
  login: string;
  status: 'active' | 'left';
}

export interface SandboxSeed {
  people: SandboxSeedPerson[];
  keys: SandboxSeedKey[];
}

/** A source of numbers in [0, 1): Math.random at run time, a seeded generator for reproducible organisations. */
export type RandomSource = () => number;

/** `length` characters drawn from `alphabet`. */
export function randomString(alphabet: string, length: number, random: RandomSource): string {
  // Char codes then one fromCharCode: several times faster than concatenation for the 100k organisation.
  const codes = new Array<number>(length);
  for (let i = 0; i < length; i++) codes[i] = alphabet.charCodeAt(Math.floor(random() * alphabet.length));
  return String.fromCharCode.apply(null, codes);
}

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
