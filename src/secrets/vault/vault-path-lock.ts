// A lease lock per secret path, built from the one atomic primitive Vault's KV engine offers: a check-and-set
// data write. Vault's metadata endpoint (where the stage pointers live) has no check-and-set, so two processes
// changing one path's pointers at once could each overwrite the other; holding this lock around every change
// serialises them. The lock is a KV secret under `.keyledger-locks/` holding its owner and an expiry, so a
// crashed holder delays others by at most the lease.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SecretStoreError } from '../secret-store-error.js';
import { isCasMismatch, type VaultHttpClient } from './vault-http-client.js';

export const VAULT_LOCK_ROOT = '.keyledger-locks';

export interface VaultPathLockOptions {
  /** How long a holder may keep the lock before others may take it over. */
  leaseMs: number;
  /** How long to wait for a held lock before E_SECRET_CONFLICT. */
  waitMs: number;
}

export class VaultPathLock {
  readonly #client: VaultHttpClient;
  readonly #route: (kind: 'data' | 'metadata', path: string) => string;
  readonly #options: VaultPathLockOptions;
  readonly #owner = randomUUID();

  /** `route` turns a lock path into an API path, e.g. `secret/data/.keyledger-locks/<path>`. */
  constructor(
    client: VaultHttpClient,
    route: (kind: 'data' | 'metadata', path: string) => string,
    options: VaultPathLockOptions,
  ) {
    this.#client = client;
    this.#route = route;
    this.#options = options;
  }

  /** Runs `work` holding the lock of `path`; `forget` removes the lock secret afterwards (the path was deleted). */
  async withLock<T>(path: string, work: () => Promise<T>, options: { forget?: boolean } = {}): Promise<T> {
    const version = await this.#acquire(path);
    try {
      return await work();
    } finally {
      await this.#release(path, version, options.forget === true);
    }
  }

  async #acquire(path: string): Promise<number> {
    const lockPath = `${VAULT_LOCK_ROOT}/${path}`;
    const deadline = Date.now() + this.#options.waitMs;
    for (;;) {
      const answer = await this.#client.call({
        method: 'GET',
        path: this.#route('data', lockPath),
        accept: [404],
        secretPath: path,
      });
      const version = Number(answer.body?.data?.metadata?.version ?? 0);
      const holder = answer.status === 200 ? answer.body?.data?.data : null;
      const free = !holder?.owner || Number(holder.expires_at) <= Date.now();
      if (free) {
        try {
          await this.#client.call({
            method: 'POST',
            path: this.#route('data', lockPath),
            json: {
              options: { cas: version },
              data: { owner: this.#owner, expires_at: String(Date.now() + this.#options.leaseMs) },
            },
            secretPath: path,
          });
          return version + 1;
        } catch (error) {
          // Another writer took it between our read and our write: look again.
          if (!isCasMismatch(error)) throw error;
          continue;
        }
      }
      if (Date.now() >= deadline) {
        throw new SecretStoreError(
          'E_SECRET_CONFLICT',
          'vault',
          `${path} stayed locked by another keyledger writer for ${this.#options.waitMs} ms`,
          {
            path,
            retryable: true,
          },
        );
      }
      await sleep(10 + Math.floor(Math.random() * 40));
    }
  }

  async #release(path: string, version: number, forget: boolean): Promise<void> {
    const lockPath = `${VAULT_LOCK_ROOT}/${path}`;
    try {
      if (forget) {
        await this.#client.call({
          method: 'DELETE',
          path: this.#route('metadata', lockPath),
          accept: [404],
          secretPath: path,
        });
        return;
      }
      await this.#client.call({
        method: 'POST',
        path: this.#route('data', lockPath),
        json: { options: { cas: version }, data: { owner: '', expires_at: '0' } },
        secretPath: path,
      });
    } catch (error) {
      // Our lease ran out and someone else holds the lock now: theirs to release.
      if (!isCasMismatch(error)) throw error;
    }
  }
}
