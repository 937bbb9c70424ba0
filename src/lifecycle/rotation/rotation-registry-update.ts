// The last external step of a rotation: the registry entry records the new key (last_rotated, provider_key_id,
// fingerprint, status active, and the new key's created_at and expiration) in one commit through RegistryWriter. Idempotent, and it recovers from the one mess
// a crash can leave: our own edit written to the file but not committed (the process died inside the commit).

import { KeyledgerError } from '../../errors/keyledger-error.js';
import { runGit } from '../../git/git-command.js';
import { formatInstant } from '../../registry/registry-dates.js';
import type { RegistryWriter } from '../../registry/registry-writer.js';
import { RotationStepError } from './rotation-error.js';

export interface RegistryRotationRecord {
  keyId: string;
  rotationId: string;
  providerKeyId: string;
  fingerprint: string;
  rotatedAt: Date;
  actor: string;
  trigger: string;
}

/**
 * The new key's dates: created at the rotation, expiring as long after as its predecessor was meant to live (the
 * lifetime the rotator gave the provider: expiration - created_at). Without them an entry due because it expires
 * would stay due, and be rotated again by every run, however often it was rotated.
 */
export function rotatedKeyDates(
  entry: { created_at?: unknown; expiration?: unknown },
  rotatedAt: Date,
): { created_at: string; expiration: string } | undefined {
  const created = Date.parse(String(entry.created_at));
  const expires = Date.parse(String(entry.expiration));
  if (!Number.isFinite(created) || !Number.isFinite(expires) || expires <= created) return undefined;
  return {
    created_at: formatInstant(rotatedAt),
    expiration: formatInstant(new Date(rotatedAt.getTime() + (expires - created))),
  };
}

/** Returns the commit that records the rotation (HEAD when the entry already showed it). */
export async function recordRotationInRegistry(
  writer: RegistryWriter,
  root: string,
  record: RegistryRotationRecord,
  env?: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const found = await writer.read(record.keyId);
  if (!found)
    throw new RotationStepError(
      'fatal',
      'key_missing',
      `${record.keyId} is no longer in the registry; the rotation finished at the provider and in the store`,
    );
  const patch = {
    ...rotatedKeyDates(found.entry, record.rotatedAt),
    last_rotated: formatInstant(record.rotatedAt),
    provider_key_id: record.providerKeyId,
    fingerprint: record.fingerprint,
    status: 'active',
  };
  const message = `Rotated by ${record.actor} (${record.trigger}), rotation ${record.rotationId}`;
  try {
    return (await writer.update(record.keyId, patch, { message })).commit;
  } catch (error) {
    if (!(error instanceof KeyledgerError)) throw error;
    if (error.code === 'E_REGISTRY_DIRTY') {
      // Uncommitted changes that are exactly ours come from a run that died between writing and committing:
      // put the file back as committed and let the next attempt write it again, as one commit.
      const onDisk = found.entry;
      if (onDisk.provider_key_id === record.providerKeyId && onDisk.fingerprint === record.fingerprint) {
        await runGit(['checkout', '--quiet', 'HEAD', '--', found.file], { cwd: root, ...(env ? { env } : {}) }).catch(
          () => undefined,
        );
        throw new RotationStepError(
          'transient',
          'registry_busy',
          `${found.file} held this rotation's uncommitted edit from an interrupted run; restored, retrying`,
          error,
        );
      }
      throw new RotationStepError(
        'transient',
        'registry_dirty',
        `${found.file} has uncommitted changes by someone else; commit or discard them and the rotation will finish`,
        error,
      );
    }
    if (error.code === 'E_REGISTRY_LOCKED' || error.code === 'E_REGISTRY_COMMIT' || error.code === 'E_GIT') {
      throw new RotationStepError(
        'transient',
        'registry_busy',
        `the registry could not be committed yet: ${error.message}`,
        error,
      );
    }
    throw error;
  }
}
