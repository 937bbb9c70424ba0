// A secret store that can be made to fail, for the fault tests of rotation (rotation-faults.test.ts): wholly down
// (every call refused as unavailable, as a Vault that cannot be reached), or refusing only the `pending` writes a
// rotation makes (its probe and first-issue writes still pass). It wraps a real store; nothing else is faked.
import type {
  PutSecretOptions,
  SecretStage,
  SecretStore,
  SecretVersion,
  StoredSecret,
} from '../../../secrets/secret-store.js';
import { SecretStoreError } from '../../../secrets/secret-store-error.js';
import type { SecretValue } from '../../../secrets/secret-value.js';

export class FaultySecretStore implements SecretStore {
  readonly kind: string;
  /** Every call fails with E_SECRET_STORE_UNAVAILABLE. */
  down = false;
  /** `put(stage: pending)` fails with E_SECRET_STORE_UNAVAILABLE. */
  failPendingPuts = false;
  /** Runs before each `put(stage: pending)`: a test starts an outage elsewhere once the new key exists. */
  beforePendingPut?: () => Promise<void>;
  readonly #inner: SecretStore;

  constructor(inner: SecretStore) {
    this.#inner = inner;
    this.kind = inner.kind;
  }

  async put(path: string, value: SecretValue, options: PutSecretOptions): Promise<SecretVersion> {
    if (options.stage === 'pending') await this.beforePendingPut?.();
    this.#check(path, this.failPendingPuts && options.stage === 'pending');
    return this.#inner.put(path, value, options);
  }

  get(path: string, stage?: SecretStage): Promise<StoredSecret | null> {
    this.#check(path);
    return this.#inner.get(path, stage);
  }

  promote(path: string): Promise<SecretVersion> {
    this.#check(path);
    return this.#inner.promote(path);
  }

  discardPending(path: string): Promise<void> {
    this.#check(path);
    return this.#inner.discardPending(path);
  }

  versions(path: string): Promise<SecretVersion[]> {
    this.#check(path);
    return this.#inner.versions(path);
  }

  delete(path: string): Promise<void> {
    this.#check(path);
    return this.#inner.delete(path);
  }

  exists(path: string): Promise<boolean> {
    this.#check(path);
    return this.#inner.exists(path);
  }

  checkWritable(path: string): Promise<void> {
    this.#check(path);
    return this.#inner.checkWritable(path);
  }

  #check(path: string, refuse = false): void {
    if (this.down || refuse)
      throw new SecretStoreError(
        'E_SECRET_STORE_UNAVAILABLE',
        this.kind,
        `injected fault: the store is down (${path})`,
        {
          path,
        },
      );
  }
}
