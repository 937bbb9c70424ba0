// The embedded secret store: versions sealed with envelope encryption (embedded-envelope.ts) in the operational
// store's tables, on SQLite or PostgreSQL. Every change to a path runs in one write transaction that first locks
// the path's pointer row, so concurrent writers queue instead of losing a stage.
import { timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { writeTransaction } from '../../db/write-transaction.js';
import { type Clock, systemClock } from '../../runtime/clock.js';
import { assertSecretPath } from '../secret-path.js';
import type { PutSecretOptions, SecretStage, SecretStore, SecretVersion, StoredSecret } from '../secret-store.js';
import { SecretStoreError } from '../secret-store-error.js';
import { runWriteProbe } from '../secret-store-probe.js';
import { SecretValue } from '../secret-value.js';
import { ENVELOPE_FORMAT, openSecret, sealSecret } from './embedded-envelope.js';
import type { MasterKeySource } from './embedded-keyring.js';
import type {
  EmbeddedSecretsSchema,
  EmbeddedSecretsTable,
  EmbeddedSecretVersionsTable,
} from './embedded-secret-tables.js';

const KIND = 'embedded';

/** Versions holding no stage that are kept (newest first) for audit and recovery, unless configured otherwise. */
export const DEFAULT_EMBEDDED_MAX_VERSIONS = 10;

export interface EmbeddedSecretStoreOptions {
  /** The operational store's Kysely (any schema that includes the embedded tables). */
  // biome-ignore lint/suspicious/noExplicitAny: the operational schema lives in src/db; only our tables matter here.
  db: Kysely<any>;
  keys: MasterKeySource;
  clock?: Clock;
  /** How many versions a path keeps, staged ones always included; older unstaged versions are deleted. */
  maxVersions?: number;
}

type Pointers = Pick<EmbeddedSecretsTable, 'current_version' | 'pending_version' | 'previous_version'>;

const STAGE_COLUMN = {
  current: 'current_version',
  pending: 'pending_version',
  previous: 'previous_version',
} as const satisfies Record<SecretStage, keyof Pointers>;

export class EmbeddedSecretStore implements SecretStore {
  readonly kind = KIND;
  readonly #db: Kysely<EmbeddedSecretsSchema>;
  readonly #keys: MasterKeySource;
  readonly #clock: Clock;
  readonly #maxVersions: number;

  constructor(options: EmbeddedSecretStoreOptions) {
    this.#db = options.db as Kysely<EmbeddedSecretsSchema>;
    this.#keys = options.keys;
    this.#clock = options.clock ?? systemClock;
    this.#maxVersions = Math.max(1, options.maxVersions ?? DEFAULT_EMBEDDED_MAX_VERSIONS);
  }

  async put(path: string, value: SecretValue, options: PutSecretOptions): Promise<SecretVersion> {
    assertSecretPath(KIND, path);
    const keyring = await this.#keys.load();
    const now = this.#clock().toISOString();
    const metadata = { ...(options.metadata ?? {}) };
    return writeTransaction(this.#db, async (trx) => {
      await trx
        .insertInto('embedded_secrets')
        .values({
          path,
          next_version: 0,
          current_version: null,
          pending_version: null,
          previous_version: null,
          created_at: now,
          updated_at: now,
        })
        .onConflict((conflict) => conflict.column('path').doNothing())
        .execute();
      const row = await lockPath(trx, path, now);
      if (!row)
        throw new SecretStoreError(
          'E_SECRET_STORE',
          KIND,
          `the pointer row of ${path} vanished inside its own transaction`,
          { path },
        );
      if (options.idempotencyToken !== undefined) {
        const earlier = await trx
          .selectFrom('embedded_secret_versions')
          .selectAll()
          .where('path', '=', path)
          .where('idempotency_token', '=', options.idempotencyToken)
          .executeTakeFirst();
        if (earlier) {
          const earlierValue = openSecret(toSealed(earlier), { path, version: earlier.version }, keyring);
          if (!sameText(earlierValue, value.reveal())) {
            throw new SecretStoreError(
              'E_SECRET_CONFLICT',
              KIND,
              `idempotency token already used at ${path} (version ${earlier.version}) for a different value`,
              { path },
            );
          }
          return toVersion(earlier, row);
        }
      }
      const version = row.next_version + 1;
      const sealed = sealSecret(value.reveal(), { path, version }, keyring.active);
      const versionRow: EmbeddedSecretVersionsTable = {
        path,
        version,
        created_at: now,
        metadata: JSON.stringify(metadata),
        idempotency_token: options.idempotencyToken ?? null,
        ciphertext: sealed.ciphertext,
        wrapped_key: sealed.wrappedKey,
        master_key_id: sealed.masterKeyId,
        envelope_format: ENVELOPE_FORMAT,
      };
      await trx.insertInto('embedded_secret_versions').values(versionRow).execute();
      const pointers = withStage(row, options.stage, version);
      await trx
        .updateTable('embedded_secrets')
        .set({ ...pointers, next_version: version })
        .where('path', '=', path)
        .execute();
      await this.#prune(trx, path, version, pointers);
      return toVersion(versionRow, pointers);
    });
  }

  async get(path: string, stage: SecretStage = 'current'): Promise<StoredSecret | null> {
    assertSecretPath(KIND, path);
    const row = await this.#db
      .selectFrom('embedded_secrets as s')
      .innerJoin('embedded_secret_versions as v', (join) =>
        join.onRef('v.path', '=', 's.path').onRef('v.version', '=', `s.${STAGE_COLUMN[stage]}`),
      )
      .selectAll('v')
      .select(['s.current_version', 's.pending_version', 's.previous_version'])
      .where('s.path', '=', path)
      .executeTakeFirst();
    if (!row) return null;
    const keyring = await this.#keys.load();
    const plaintext = openSecret(toSealed(row), { path, version: row.version }, keyring);
    return { ...toVersion(row, row), value: new SecretValue(plaintext) };
  }

  async promote(path: string): Promise<SecretVersion> {
    assertSecretPath(KIND, path);
    const now = this.#clock().toISOString();
    return writeTransaction(this.#db, async (trx) => {
      const row = await lockPath(trx, path, now);
      if (!row) throw notFound(path, 'there is no secret to promote');
      const target = row.pending_version ?? row.current_version;
      if (target === null) throw notFound(path, 'it has neither a pending nor a current version');
      const pointers: Pointers =
        row.pending_version === null
          ? row
          : {
              current_version: row.pending_version,
              pending_version: null,
              previous_version: row.current_version ?? row.previous_version,
            };
      if (row.pending_version !== null) {
        await trx.updateTable('embedded_secrets').set(pointers).where('path', '=', path).execute();
        await this.#prune(trx, path, row.next_version, pointers);
      }
      const versionRow = await trx
        .selectFrom('embedded_secret_versions')
        .select(['version', 'created_at', 'metadata'])
        .where('path', '=', path)
        .where('version', '=', target)
        .executeTakeFirst();
      if (!versionRow)
        throw new SecretStoreError('E_SECRET_STORE', KIND, `${path} points at version ${target}, which is missing`, {
          path,
        });
      return toVersion(versionRow, pointers);
    });
  }

  async discardPending(path: string): Promise<void> {
    assertSecretPath(KIND, path);
    const now = this.#clock().toISOString();
    await writeTransaction(this.#db, async (trx) => {
      const row = await lockPath(trx, path, now);
      if (!row || row.pending_version === null) return;
      // A discarded version is a key that was rolled back; its material has no further use, so it goes now.
      await trx
        .deleteFrom('embedded_secret_versions')
        .where('path', '=', path)
        .where('version', '=', row.pending_version)
        .execute();
      await trx.updateTable('embedded_secrets').set({ pending_version: null }).where('path', '=', path).execute();
    });
  }

  async versions(path: string): Promise<SecretVersion[]> {
    assertSecretPath(KIND, path);
    const rows = await this.#db
      .selectFrom('embedded_secret_versions as v')
      .innerJoin('embedded_secrets as s', 's.path', 'v.path')
      .select([
        'v.version',
        'v.created_at',
        'v.metadata',
        's.current_version',
        's.pending_version',
        's.previous_version',
      ])
      .where('v.path', '=', path)
      .orderBy('v.version', 'desc')
      .execute();
    return rows.map((row) => toVersion(row, row));
  }

  async delete(path: string): Promise<void> {
    assertSecretPath(KIND, path);
    await writeTransaction(this.#db, async (trx) => {
      await trx.deleteFrom('embedded_secret_versions').where('path', '=', path).execute();
      await trx.deleteFrom('embedded_secrets').where('path', '=', path).execute();
    });
  }

  async checkWritable(path: string): Promise<void> {
    assertSecretPath(KIND, path);
    await runWriteProbe(this, path);
  }

  async exists(path: string): Promise<boolean> {
    assertSecretPath(KIND, path);
    const row = await this.#db
      .selectFrom('embedded_secrets')
      .select('path')
      .where('path', '=', path)
      .where('current_version', 'is not', null)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Deletes unstaged versions older than the newest `maxVersions`. */
  async #prune(trx: Kysely<EmbeddedSecretsSchema>, path: string, newest: number, pointers: Pointers): Promise<void> {
    const keep = [pointers.current_version, pointers.pending_version, pointers.previous_version].filter(
      (version) => version !== null,
    );
    let query = trx
      .deleteFrom('embedded_secret_versions')
      .where('path', '=', path)
      .where('version', '<=', newest - this.#maxVersions);
    if (keep.length > 0) query = query.where('version', 'not in', keep);
    await query.execute();
  }
}

/**
 * Locks the path's pointer row for the rest of the transaction and returns it. The no-op update takes a row lock
 * on PostgreSQL (and re-reads the latest committed row); on SQLite the transaction already holds the write lock.
 */
async function lockPath(
  trx: Kysely<EmbeddedSecretsSchema>,
  path: string,
  now: string,
): Promise<EmbeddedSecretsTable | undefined> {
  return trx
    .updateTable('embedded_secrets')
    .set({ updated_at: now })
    .where('path', '=', path)
    .returningAll()
    .executeTakeFirst();
}

/** The pointers after `version` takes `stage`: its old holder loses it, and an old current becomes previous. */
function withStage(pointers: Pointers, stage: SecretStage, version: number): Pointers {
  const next: Pointers = {
    current_version: pointers.current_version,
    pending_version: pointers.pending_version,
    previous_version: pointers.previous_version,
  };
  if (stage === 'current' && pointers.current_version !== null) next.previous_version = pointers.current_version;
  next[STAGE_COLUMN[stage]] = version;
  return next;
}

function stagesOf(version: number, pointers: Pointers): SecretStage[] {
  const stages: SecretStage[] = [];
  if (pointers.pending_version === version) stages.push('pending');
  if (pointers.current_version === version) stages.push('current');
  if (pointers.previous_version === version) stages.push('previous');
  return stages;
}

function toVersion(
  row: Pick<EmbeddedSecretVersionsTable, 'version' | 'created_at' | 'metadata'>,
  pointers: Pointers,
): SecretVersion {
  const version = Number(row.version);
  return {
    versionId: String(version),
    stages: stagesOf(version, normalise(pointers)),
    createdAt: new Date(row.created_at),
    metadata: JSON.parse(row.metadata) as Record<string, string>,
  };
}

/** PostgreSQL hands bigint back as number (the store's pool parser), SQLite as number; this guards the rest. */
function normalise(pointers: Pointers): Pointers {
  const asNumber = (value: number | null) => (value === null ? null : Number(value));
  return {
    current_version: asNumber(pointers.current_version),
    pending_version: asNumber(pointers.pending_version),
    previous_version: asNumber(pointers.previous_version),
  };
}

function toSealed(row: Pick<EmbeddedSecretVersionsTable, 'ciphertext' | 'wrapped_key' | 'master_key_id'>) {
  return { ciphertext: row.ciphertext, wrappedKey: row.wrapped_key, masterKeyId: row.master_key_id };
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

function notFound(path: string, why: string): SecretStoreError {
  return new SecretStoreError('E_SECRET_NOT_FOUND', KIND, `cannot promote ${path}: ${why}`, { path });
}
