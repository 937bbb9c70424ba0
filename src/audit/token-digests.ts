// The token-digest index: GitHub's audit log names a token only by `hashed_token`, base64 of the SHA-256 of the raw
// token, so attributing such a record needs that digest of every token keyledger holds. It is computed where the
// token passes anyway — when a secret store write puts it away (issue, rotate, store) — and kept in the operational
// store's `token_digests` table (migration 0011), never the token. Which providers need it is the audit-log reader
// table's to say (a reader's `tokenHash`), so the core names no provider. Only for those: an unsalted hash is what
// such a provider publishes itself, but for anything else the registry's keyed fingerprint is the only trace kept.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { auditLogReaderTable } from '../audit-logs/audit-log-reader-table.js';
import type { OperationalSchema, TokenDigestsTable } from '../db/operational-schema.js';
import type { Clock } from '../runtime/clock.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { SecretValue } from '../secrets/secret-value.js';

export type TokenDigestRow = TokenDigestsTable;

/** base64(SHA-256(token)): the form of GitHub's `hashed_token` (44 characters). */
export function tokenDigest(secret: SecretValue): string {
  return createHash('sha256').update(secret.reveal(), 'utf8').digest('base64');
}

/** Providers whose audit-log reader names tokens by their SHA-256 (from the reader table). */
export function providersWithTokenDigests(): ReadonlySet<string> {
  return new Set(
    Object.values(auditLogReaderTable)
      .filter((reader) => reader.tokenHash === 'sha256-base64')
      .map((reader) => reader.provider),
  );
}

export class TokenDigestStore {
  readonly #db: Kysely<OperationalSchema>;

  constructor(db: Kysely<OperationalSchema>) {
    this.#db = db;
  }

  /** Records a digest; the same token stored again (a retried write) keeps its first row. */
  async record(row: TokenDigestRow): Promise<void> {
    await this.#db
      .insertInto('token_digests')
      .values(row)
      .onConflict((conflict) => conflict.column('digest').doNothing())
      .execute();
  }

  async all(): Promise<TokenDigestRow[]> {
    return this.#db.selectFrom('token_digests').selectAll().orderBy('recorded_at').execute();
  }
}

/**
 * `store` with every write of a token for one of `providers` recorded in the digest index. The write names its
 * key and provider in its metadata (issuance-steps.ts and key-rotator.ts both do); a write that names neither, or
 * another provider, is passed through untouched. The digest is recorded after the store accepted the secret: a
 * failed write leaves no digest, and a retried one (same idempotency token) records the same row once.
 */
export function recordingTokenDigests(
  store: SecretStore,
  options: { digests: TokenDigestStore; providers: ReadonlySet<string>; clock: Clock },
): SecretStore {
  if (options.providers.size === 0) return store;
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'put') {
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      const put: SecretStore['put'] = async (path, value, putOptions) => {
        const version = await target.put(path, value, putOptions);
        const metadata = putOptions.metadata ?? {};
        const provider = metadata.provider;
        const keyId = metadata.key_id;
        if (provider && keyId && options.providers.has(provider)) {
          await options.digests.record({
            digest: tokenDigest(value),
            provider,
            key_id: keyId,
            provider_key_id: metadata.provider_key_id ?? null,
            recorded_at: options.clock().toISOString(),
          });
        }
        return version;
      };
      return put;
    },
  });
}
