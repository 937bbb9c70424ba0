// Attribution ("for every finding: rotate, attribute, audit", docs/scanner.md): a leaked secret's keyed fingerprint is
// looked up among the registry's fingerprints, giving the key id, owner team and owner. The registry stores only
// HMACs (src/README.md, invariant 1), so this is a lookup by digest, never a comparison of secrets.
import { type FingerprintKey, fingerprintDigest, fingerprintSecret } from '../../secrets/secret-fingerprint.js';
import type { SecretValue } from '../../secrets/secret-value.js';
import type { FindingOwner } from '../findings/finding.js';

/** What the scanner needs from ownership: who owns the key this secret is, if anyone we know. */
export interface OwnershipLookup {
  ownerOf(secret: SecretValue): FindingOwner | undefined;
}

export interface FingerprintedKey extends FindingOwner {
  /** `hmac-sha256:[version:]hex` as the registry holds it. */
  fingerprint: string;
}

export class FingerprintOwnershipIndex implements OwnershipLookup {
  readonly #byDigest = new Map<string, FindingOwner>();
  readonly #key: FingerprintKey;

  constructor(keys: Iterable<FingerprintedKey>, fingerprintKey: FingerprintKey) {
    this.#key = fingerprintKey;
    for (const { fingerprint, ...owner } of keys) this.#byDigest.set(fingerprintDigest(fingerprint), owner);
  }

  get size(): number {
    return this.#byDigest.size;
  }

  ownerOf(secret: SecretValue): FindingOwner | undefined {
    return this.#byDigest.get(fingerprintDigest(fingerprintSecret(secret, this.#key)));
  }
}
