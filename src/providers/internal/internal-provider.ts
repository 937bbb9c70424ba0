// The `internal` provider: API keys for the organisation's own services, in a format a scanner can recognise and
// check offline — `<prefix>_<env>_<30 random base62><6 base62 CRC32>`, like GitHub's tokens. The operational store
// keeps an HMAC of each key under a verification key, never the key: verification is a keyed-hash lookup.
// A key's last use is written at most once per `lastUsedWriteIntervalMs` per key (the server verifies its API token
// on every request, docs/benchmarks.md "Server"): later uses inside the interval wait in memory and are written when
// it ends, or at `flush` (the app's close).
import { createHmac, randomBytes, randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { InternalKeysTable, OperationalSchema } from '../../db/operational-schema.js';
import { ProviderError } from '../../errors/provider-error.js';
import {
  BASE62_ALPHABET,
  formatInternalKey,
  INTERNAL_KEY_RANDOM_LENGTH,
  isValidInternalKey,
  parseInternalKey,
} from '../../runtime/base62-crc32.js';
import type { Clock } from '../../runtime/clock.js';
import { SecretValue } from '../../secrets/secret-value.js';
import type { CreatedKey, CreateKeyRequest, LastUsed, ProviderKey, ProviderKeyRef, VerifyResult } from '../provider.js';
import { ProviderAdapter } from '../provider-adapter.js';
import { internalProviderRegistration } from './index.js';
import { type InternalProviderOptions, internalProviderOptionsSchema } from './internal-schemas.js';

export interface InternalProviderDependencies {
  db: Kysely<OperationalSchema>;
  /** At least 32 bytes; derive it from the organisation's fingerprint key with `deriveVerificationKey`. */
  verificationKey: Buffer;
  clock: Clock;
  options?: Partial<InternalProviderOptions>;
  /** Rows fetched per page by `list` (keyset pagination by id). */
  listPageSize?: number;
  /** How often one key's `last_used_at` is written at most; default one minute. 0 writes every use. */
  lastUsedWriteIntervalMs?: number;
}

export const LAST_USED_WRITE_INTERVAL_MS = 60_000;

/** A key for verification hashes, separate from the fingerprint key so the two hashes of a key never coincide. */
export function deriveVerificationKey(fingerprintKey: Buffer): Buffer {
  return createHmac('sha256', fingerprintKey).update('keyledger internal-key verification v1').digest();
}

export class InternalProvider extends ProviderAdapter {
  readonly #db: Kysely<OperationalSchema>;
  readonly #verificationKey: Buffer;
  readonly #clock: Clock;
  readonly #options: InternalProviderOptions;
  readonly #pageSize: number;
  readonly #lastUsedIntervalMs: number;
  /** Per key id: when its last use was written (clock time, ms), and a later use not yet written. */
  readonly #lastUse = new Map<string, { writtenAt: number; pending?: string }>();
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(dependencies: InternalProviderDependencies) {
    super(internalProviderRegistration, {}, { clock: dependencies.clock });
    this.#db = dependencies.db;
    this.#verificationKey = dependencies.verificationKey;
    this.#clock = dependencies.clock;
    this.#options = internalProviderOptionsSchema.parse(dependencies.options ?? {});
    this.#pageSize = dependencies.listPageSize ?? 1000;
    this.#lastUsedIntervalMs = dependencies.lastUsedWriteIntervalMs ?? LAST_USED_WRITE_INTERVAL_MS;
  }

  async create(request: CreateKeyRequest): Promise<CreatedKey> {
    const environment =
      typeof request.options?.environment === 'string' ? request.options.environment : this.#options.environment;
    const secret = formatInternalKey(this.#options.prefix, environment, randomBase62(INTERNAL_KEY_RANDOM_LENGTH));
    const createdAt = this.#clock();
    const id = `ik_${randomBytes(8).toString('hex')}`;
    await this.#db
      .insertInto('internal_keys')
      .values({
        id,
        name: request.name,
        account: request.account ?? null,
        environment,
        key_hash: this.#hash(secret),
        permissions: JSON.stringify(request.permissions ?? []),
        status: 'active',
        created_at: createdAt.toISOString(),
        expires_at: request.expiresAt?.toISOString() ?? null,
        last_used_at: null,
        revoked_at: null,
      })
      .execute();
    return {
      providerKeyId: id,
      ...(request.account ? { account: request.account } : {}),
      secret: new SecretValue(secret),
      createdAt,
      ...(request.expiresAt ? { expiresAt: request.expiresAt } : {}),
    };
  }

  async *list(options: { account?: string } = {}): AsyncIterable<ProviderKey> {
    let after = '';
    for (;;) {
      let query = this.#db
        .selectFrom('internal_keys')
        .selectAll()
        .where('id', '>', after)
        .orderBy('id')
        .limit(this.#pageSize);
      if (options.account !== undefined) query = query.where('account', '=', options.account);
      const rows = await query.execute();
      for (const row of rows) yield toProviderKey(row, this.#clock());
      if (rows.length < this.#pageSize) return;
      after = rows.at(-1)!.id;
    }
  }

  async verify(secret: SecretValue): Promise<VerifyResult> {
    const text = secret.reveal();
    if (!isValidInternalKey(text)) return { valid: false, reason: 'not an internal key: wrong format or checksum' };
    const row = await this.#db
      .selectFrom('internal_keys')
      .selectAll()
      .where('key_hash', '=', this.#hash(text))
      .executeTakeFirst();
    if (!row) return { valid: false, reason: 'unknown key' };
    if (row.status !== 'active') return { valid: false, providerKeyId: row.id, reason: 'revoked' };
    const now = this.#clock();
    if (row.expires_at !== null && row.expires_at <= now.toISOString())
      return { valid: false, providerKeyId: row.id, reason: 'expired' };
    await this.#recordUse(row.id, now);
    return { valid: true, providerKeyId: row.id, identity: `${row.account ?? 'internal'}/${row.name}` };
  }

  async revoke(ref: ProviderKeyRef): Promise<void> {
    const row = await this.#row(ref);
    if (row.status === 'revoked') return;
    await this.#db
      .updateTable('internal_keys')
      .set({ status: 'revoked', revoked_at: this.#clock().toISOString() })
      .where('id', '=', ref.providerKeyId)
      .execute();
  }

  async lastUsed(ref: ProviderKeyRef): Promise<LastUsed> {
    const row = await this.#row(ref);
    const pending = this.#lastUse.get(ref.providerKeyId)?.pending;
    const at = pending && (!row.last_used_at || pending > row.last_used_at) ? pending : row.last_used_at;
    return { at: at ? new Date(at) : null };
  }

  /** Writes the uses still waiting in memory (the app calls it at close). */
  async flush(): Promise<void> {
    await this.#flush();
  }

  /** The first use in an interval is written at once; later ones wait for the interval's end (or close). */
  async #recordUse(id: string, now: Date): Promise<void> {
    const at = now.getTime();
    const seen = this.#lastUse.get(id);
    if (seen && at >= seen.writtenAt && at - seen.writtenAt < this.#lastUsedIntervalMs) {
      seen.pending = now.toISOString();
      this.#flushTimer ??= setTimeout(() => {
        this.#flush().catch(() => undefined);
      }, this.#lastUsedIntervalMs).unref();
      return;
    }
    this.#lastUse.set(id, { writtenAt: at });
    await this.#writeLastUsed(id, now.toISOString());
  }

  async #flush(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const now = this.#clock().getTime();
    for (const [id, seen] of this.#lastUse) {
      const pending = seen.pending;
      if (pending === undefined) {
        // Nothing waits and the interval is over: the next use writes at once anyway.
        if (now - seen.writtenAt >= this.#lastUsedIntervalMs) this.#lastUse.delete(id);
        continue;
      }
      await this.#writeLastUsed(id, pending);
      if (seen.pending === pending) delete seen.pending;
      seen.writtenAt = Math.max(seen.writtenAt, Date.parse(pending));
    }
  }

  /** Never moves a key's last use back (another process may have written a later one). */
  async #writeLastUsed(id: string, at: string): Promise<void> {
    await this.#db
      .updateTable('internal_keys')
      .set({ last_used_at: at })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
      .execute();
  }

  /** The environment part of a key, for a scanner's report. */
  static environmentOf(key: string): string | undefined {
    return parseInternalKey(key)?.env;
  }

  async #row(ref: ProviderKeyRef): Promise<InternalKeysTable> {
    const row = await this.#db
      .selectFrom('internal_keys')
      .selectAll()
      .where('id', '=', ref.providerKeyId)
      .executeTakeFirst();
    if (!row) {
      throw new ProviderError('E_PROVIDER_NOT_FOUND', this.name, `no internal key with id ${ref.providerKeyId}`, {
        status: 404,
      });
    }
    return row;
  }

  #hash(key: string): string {
    return createHmac('sha256', this.#verificationKey).update(key, 'utf8').digest('hex');
  }
}

function toProviderKey(row: InternalKeysTable, now: Date): ProviderKey {
  const expired = row.expires_at !== null && row.expires_at <= now.toISOString();
  return {
    providerKeyId: row.id,
    ...(row.account ? { account: row.account } : {}),
    name: row.name,
    status: row.status === 'revoked' ? 'revoked' : expired ? 'expired' : 'active',
    createdAt: new Date(row.created_at),
    ...(row.expires_at ? { expiresAt: new Date(row.expires_at) } : {}),
    ...(row.last_used_at ? { lastUsedAt: new Date(row.last_used_at) } : {}),
    permissions: JSON.parse(row.permissions) as string[],
  };
}

/** Uniform random base62 text (randomInt draws without modulo bias). */
function randomBase62(length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += BASE62_ALPHABET[randomInt(62)];
  return text;
}
