// How the Vault store gets a token: a fixed token, a token file (read again after a 403), or an AppRole login whose
// token is cached until its lease runs out or Vault answers 403, and then fetched again by logging in anew.
import { readFile } from 'node:fs/promises';
import type { Clock } from '../../runtime/clock.js';
import { SecretStoreError } from '../secret-store-error.js';
import { SecretValue } from '../secret-value.js';

/** Sends the AppRole login; returns the new token and its lease in seconds. */
export type VaultLogin = (
  mount: string,
  roleId: string,
  secretId: SecretValue,
) => Promise<{ token: SecretValue; leaseSeconds: number }>;

export interface VaultAuth {
  /** A token to send now. */
  token(): Promise<SecretValue>;
  /** Forgets the cached token after a 403; true when a fresh one can be had (AppRole), false for a fixed token. */
  invalidate(): boolean;
  /** Every credential this auth holds, to be cut out of any error text. */
  readonly secrets: SecretValue[];
}

export class VaultTokenAuth implements VaultAuth {
  readonly #token: SecretValue;

  constructor(token: SecretValue) {
    this.#token = token;
  }

  async token(): Promise<SecretValue> {
    return this.#token;
  }

  invalidate(): boolean {
    return false;
  }

  get secrets(): SecretValue[] {
    return [this.#token];
  }
}

/** A token read from a file (Vault Agent's file sink, the sandbox's `.keyledger/vault-token`). */
export class VaultTokenFileAuth implements VaultAuth {
  readonly #path: string;
  #cached?: SecretValue;
  #reading?: Promise<SecretValue>;

  constructor(path: string) {
    this.#path = path;
  }

  async token(): Promise<SecretValue> {
    if (this.#cached) return this.#cached;
    this.#reading ??= this.#read().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  /** The file may hold a renewed token: read it again on the next call. */
  invalidate(): boolean {
    this.#cached = undefined;
    return true;
  }

  get secrets(): SecretValue[] {
    return this.#cached ? [this.#cached] : [];
  }

  async #read(): Promise<SecretValue> {
    let text: string;
    try {
      text = (await readFile(this.#path, 'utf8')).trim();
    } catch (error) {
      throw new SecretStoreError(
        'E_SECRET_STORE_AUTH',
        'vault',
        `cannot read the Vault token file ${this.#path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`,
      );
    }
    if (!text)
      throw new SecretStoreError('E_SECRET_STORE_AUTH', 'vault', `the Vault token file ${this.#path} is empty`);
    this.#cached = new SecretValue(text);
    return this.#cached;
  }
}

// Log in again this long before the lease ends, so a call does not race the expiry.
const RENEW_MARGIN_MS = 30_000;

export class VaultAppRoleAuth implements VaultAuth {
  readonly #mount: string;
  readonly #roleId: string;
  readonly #secretId: SecretValue;
  readonly #login: VaultLogin;
  readonly #clock: Clock;
  #cached?: { token: SecretValue; expiresAt: number };
  #pending?: Promise<SecretValue>;

  constructor(options: { mount: string; roleId: string; secretId: SecretValue; login: VaultLogin; clock: Clock }) {
    this.#mount = options.mount;
    this.#roleId = options.roleId;
    this.#secretId = options.secretId;
    this.#login = options.login;
    this.#clock = options.clock;
  }

  async token(): Promise<SecretValue> {
    const cached = this.#cached;
    if (cached && cached.expiresAt > this.#clock().getTime()) return cached.token;
    // Concurrent callers share one login rather than each minting a token.
    this.#pending ??= this.#freshToken().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  invalidate(): boolean {
    this.#cached = undefined;
    return true;
  }

  get secrets(): SecretValue[] {
    return this.#cached ? [this.#secretId, this.#cached.token] : [this.#secretId];
  }

  async #freshToken(): Promise<SecretValue> {
    const { token, leaseSeconds } = await this.#login(this.#mount, this.#roleId, this.#secretId);
    // A lease of 0 means the token does not expire on its own.
    const lifetime =
      leaseSeconds > 0 ? Math.max(leaseSeconds * 1000 - RENEW_MARGIN_MS, leaseSeconds * 500) : Number.POSITIVE_INFINITY;
    this.#cached = { token, expiresAt: this.#clock().getTime() + lifetime };
    return token;
  }
}
