// Master-key rotation of the embedded store without downtime. A new key becomes active (new rows are wrapped by
// it) while the old one stays in the keyring as `retiring`, so every row stays readable; then each row's data key
// is re-wrapped under the new key, in batches, one transaction each, without decrypting a single value; when a
// pass finds no row left under an old key, the old key is removed from the keyring.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { writeTransaction } from '../../db/write-transaction.js';
import { SecretStoreError } from '../secret-store-error.js';
import { rewrapSecret } from './embedded-envelope.js';
import { MASTER_KEY_BYTES, MasterKeyring, type MasterKeySource, masterKeyFromBytes } from './embedded-keyring.js';
import { MasterKeyFile, RETIRING_MASTER_KEYS_ENV } from './embedded-master-key-source.js';
import type { EmbeddedSecretsSchema } from './embedded-secret-tables.js';

export const DEFAULT_REWRAP_BATCH_SIZE = 200;
/** Passes over the table before giving up on retiring: each catches rows written under the old key meanwhile. */
const MAX_REWRAP_PASSES = 5;

export interface MasterKeyUsage {
  id: string;
  /** `unknown` when rows name a key the keyring does not hold: those rows cannot be read. */
  state: 'active' | 'retiring' | 'unknown';
  versions: number;
}

export interface MasterKeyStatus {
  /** `env`, or the key file's path. */
  source: string;
  activeKeyId: string;
  keys: MasterKeyUsage[];
}

export interface RewrapFailure {
  path: string;
  version: number;
  code: string;
}

export interface MasterKeyRotationReport {
  source: string;
  /** The key that was active before; equal to activeKeyId when a rotation was only finished or re-run. */
  previousActiveKeyId: string;
  activeKeyId: string;
  /** True when this run generated the new key (key file); false when the key came from the environment or an
   * earlier interrupted rotation is being finished. */
  generated: boolean;
  rewrapped: number;
  failed: RewrapFailure[];
  /** Keys removed from the keyring file by this run. */
  retiredKeyIds: string[];
  /** Keys still in the keyring as retiring (rows failed, or the keys come from the environment). */
  retiringKeyIds: string[];
  /** Keys other than the active one that some row still names; empty when the rotation is complete. */
  keysStillInUse: string[];
}

// biome-ignore lint/suspicious/noExplicitAny: the operational schema lives in src/db; only our tables matter here.
type AnyKysely = Kysely<any>;

export async function embeddedMasterKeyStatus(db: AnyKysely, source: MasterKeySource): Promise<MasterKeyStatus> {
  const keyring = await source.load();
  const counts = await (db as Kysely<EmbeddedSecretsSchema>)
    .selectFrom('embedded_secret_versions')
    .select(['master_key_id', (eb) => eb.fn.countAll<number>().as('versions')])
    .groupBy('master_key_id')
    .execute();
  const byId = new Map(counts.map((row) => [row.master_key_id, Number(row.versions)]));
  const keys: MasterKeyUsage[] = keyring.ids.map((id) => ({
    id,
    state: keyring.stateOf(id)!,
    versions: byId.get(id) ?? 0,
  }));
  for (const [id, versions] of byId) if (!keyring.find(id)) keys.push({ id, state: 'unknown', versions });
  return { source: source.description, activeKeyId: keyring.active.id, keys };
}

/** Re-wraps every row not under the keyring's active key; rows that cannot be unwrapped are reported and skipped. */
export async function rewrapEmbeddedSecrets(
  db: AnyKysely,
  keyring: MasterKeyring,
  options: { batchSize?: number; onBatch?: (done: number) => void } = {},
): Promise<{ rewrapped: number; failed: RewrapFailure[] }> {
  const typed = db as Kysely<EmbeddedSecretsSchema>;
  const batchSize = options.batchSize ?? DEFAULT_REWRAP_BATCH_SIZE;
  const active = keyring.active;
  const failed: RewrapFailure[] = [];
  let rewrapped = 0;
  let cursor: { path: string; version: number } | undefined;
  for (;;) {
    const batch = await writeTransaction(typed, async (trx) => {
      let query = trx
        .selectFrom('embedded_secret_versions')
        .select(['path', 'version', 'ciphertext', 'wrapped_key', 'master_key_id'])
        .where('master_key_id', '<>', active.id);
      if (cursor) {
        const after = cursor;
        // Keyset paging, so a failed row is passed over rather than read again forever.
        query = query.where((eb) =>
          eb.or([
            eb('path', '>', after.path),
            eb.and([eb('path', '=', after.path), eb('version', '>', after.version)]),
          ]),
        );
      }
      const rows = await query.orderBy('path').orderBy('version').limit(batchSize).execute();
      for (const row of rows) {
        const binding = { path: row.path, version: Number(row.version) };
        try {
          const sealed = rewrapSecret(
            { ciphertext: row.ciphertext, wrappedKey: row.wrapped_key, masterKeyId: row.master_key_id },
            binding,
            keyring,
            active,
          );
          const result = await trx
            .updateTable('embedded_secret_versions')
            .set({ wrapped_key: sealed.wrappedKey, master_key_id: sealed.masterKeyId })
            .where('path', '=', row.path)
            .where('version', '=', row.version)
            .where('master_key_id', '=', row.master_key_id)
            .executeTakeFirst();
          rewrapped += Number(result.numUpdatedRows);
        } catch (error) {
          if (!(error instanceof SecretStoreError)) throw error;
          failed.push({ path: row.path, version: binding.version, code: error.code });
        }
      }
      return rows;
    });
    if (batch.length === 0) break;
    const last = batch[batch.length - 1]!;
    cursor = { path: last.path, version: Number(last.version) };
    options.onBatch?.(rewrapped);
  }
  return { rewrapped, failed };
}

/**
 * `keyledger master-key rotate`. With a key file: generates a new key (or finishes an interrupted rotation),
 * re-wraps every row, and retires the old keys once none is left under them. With `KEYLEDGER_MASTER_KEY`: the
 * operator has already set the new key there and the old one in KEYLEDGER_MASTER_KEY_RETIRING; this re-wraps
 * every row to the new key and says when the old one can be removed from the environment.
 */
export async function rotateEmbeddedMasterKey(
  db: AnyKysely,
  source: MasterKeySource,
  options: { batchSize?: number; onBatch?: (done: number) => void } = {},
): Promise<MasterKeyRotationReport> {
  const before = await source.load();
  let keyring = before;
  let generated = false;
  if (source instanceof MasterKeyFile && before.retiringIds.length === 0) {
    const fresh = masterKeyFromBytes(randomBytes(MASTER_KEY_BYTES), 'a new random key');
    keyring = new MasterKeyring(fresh, [before.active]);
    await source.write(keyring);
    generated = true;
  }
  let rewrapped = 0;
  let failed: RewrapFailure[] = [];
  for (let pass = 0; pass < MAX_REWRAP_PASSES; pass += 1) {
    const result = await rewrapEmbeddedSecrets(db, keyring, options);
    rewrapped += result.rewrapped;
    failed = result.failed;
    if (result.rewrapped === 0) break;
  }
  const status = await embeddedMasterKeyStatus(db, { description: source.description, load: async () => keyring });
  const stillUsed = new Set(
    status.keys.filter((key) => key.state !== 'active' && key.versions > 0).map((key) => key.id),
  );
  const retiredKeyIds: string[] = [];
  if (source instanceof MasterKeyFile) {
    const keep = keyring.retiringIds.filter((id) => stillUsed.has(id));
    retiredKeyIds.push(...keyring.retiringIds.filter((id) => !stillUsed.has(id)));
    if (retiredKeyIds.length > 0) {
      keyring = new MasterKeyring(
        keyring.active,
        keep.map((id) => keyring.find(id)!),
      );
      await source.write(keyring);
    }
  }
  return {
    source: source.description,
    previousActiveKeyId: before.active.id,
    activeKeyId: keyring.active.id,
    generated,
    rewrapped,
    failed,
    retiredKeyIds,
    retiringKeyIds: keyring.retiringIds,
    keysStillInUse: [...stillUsed],
  };
}

/** What to tell an operator whose keys come from the environment, once no row needs the retiring keys. */
export function environmentRetirementHint(report: MasterKeyRotationReport): string | undefined {
  if (report.source !== 'env' || report.retiringKeyIds.length === 0 || report.keysStillInUse.length > 0)
    return undefined;
  return `every row is now wrapped by ${report.activeKeyId}; remove ${RETIRING_MASTER_KEYS_ENV} from the environment`;
}
