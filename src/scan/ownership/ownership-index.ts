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
  fingerprint?: string;
  /**
   * The provider's id of the key (`provider_key_id`). Some rules find the identifier half of a credential pair — an
   * AWS access key id beside its secret — which is no secret and is matched as text.
   */
  providerKeyId?: string;
}

/**
 * Shorter provider ids (GitLab's and Stripe's numeric or short ids) could equal unrelated text a rule matched; the
 * identifiers rules find (AWS `AKIA...` ids are 20 characters, Datadog's and Azure's are UUIDs) are longer.
 */
const MIN_MATCHED_KEY_ID_LENGTH = 16;

export class FingerprintOwnershipIndex implements OwnershipLookup {
  readonly #byDigest = new Map<string, FindingOwner>();
  readonly #byProviderKeyId = new Map<string, FindingOwner>();
  readonly #key: FingerprintKey;

  constructor(keys: Iterable<FingerprintedKey>, fingerprintKey: FingerprintKey) {
    this.#key = fingerprintKey;
    for (const { fingerprint, providerKeyId, ...owner } of keys) {
      if (fingerprint) this.#byDigest.set(fingerprintDigest(fingerprint), owner);
      if (providerKeyId && providerKeyId.length >= MIN_MATCHED_KEY_ID_LENGTH)
        this.#byProviderKeyId.set(providerKeyId, { ...owner, matchedBy: 'provider-key-id' });
    }
  }

  get size(): number {
    return this.#byDigest.size;
  }

  ownerOf(secret: SecretValue): FindingOwner | undefined {
    return (
      this.#byDigest.get(fingerprintDigest(fingerprintSecret(secret, this.#key))) ??
      this.#byProviderKeyId.get(secret.reveal())
    );
  }
}
