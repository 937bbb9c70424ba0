// The interface every way of confirming that a consumer of a key has picked up its new version implements
// (docs/rotation.md). One per `consumed_by` entry, chosen by its `probe.kind` (or by what the entry names); the
// implementations live in consumers/<kind>/ and are registered in consumer-confirmer-table.ts.
import type { Consumer } from '../../../registry/key-entry-schema.js';

/** The version of a key a consumer should now use. Nothing secret: ids, a version id and a fingerprint. */
export interface ExpectedKeyVersion {
  keyId: string;
  rotationId: string;
  /** The secret store's version id of the new secret. */
  versionId: string;
  providerKeyId: string;
  /** HMAC fingerprint of the new secret, for consumers that report one instead of a version id. */
  fingerprint: string;
  /** When the new version was stored: a consumer that synced after this has it. */
  storedAt: Date;
}

export type ConfirmationStatus =
  /** The consumer uses (or has loaded) the expected version. */
  | { state: 'confirmed'; detail: string }
  /** Not yet: ask again later, until the timeout. */
  | { state: 'waiting'; detail: string }
  /** It will not: roll back now rather than wait for the timeout. */
  | { state: 'failed'; detail: string };

export interface ConsumerConfirmer {
  /** The `probe.kind` this confirmer serves: `http`, `command`, `external-secret`, `grace`. */
  readonly kind: string;
  /** Asks once whether the consumer has picked up `expected`. Must not throw for a "no": it answers `waiting`. */
  check(consumer: ConsumerProbe, expected: ExpectedKeyVersion): Promise<ConfirmationStatus>;
  /** Runs the consumer's own code path with the new key, where the registry names one (a false-pass guard). */
  exercise?(consumer: ConsumerProbe, expected: ExpectedKeyVersion): Promise<ConfirmationStatus>;
  /**
   * Whether the consumer can be asked at all (the preflight, src/lifecycle/preflight/): a probe that cannot be
   * reached would only be found out after a key was minted. Confirmers without a cheap check leave it out.
   */
  reachable?(consumer: ConsumerProbe): Promise<{ reachable: boolean; detail: string }>;
}

/** One `consumed_by` entry with its probe settings resolved. */
export interface ConsumerProbe {
  /** A name for messages and events: the service, the Kubernetes secret, or the bare consumer name. */
  name: string;
  kind: string;
  /** The `probe` object from the registry (or what the entry implies), validated by the confirmer. */
  settings: Record<string, unknown>;
  consumer: Consumer;
}
