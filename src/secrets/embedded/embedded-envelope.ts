// Envelope encryption of one secret version: the value is sealed with AES-256-GCM under a fresh random data key,
// and the data key is sealed with AES-256-GCM under the active master key. Both seals authenticate additional
// data naming the path and version (and, for the data key, the master key id), so a ciphertext copied into
// another row, a wrapped key swapped between rows, or a row claiming the wrong master key fails to open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SecretStoreError } from '../secret-store-error.js';
import type { MasterKey, MasterKeyring } from './embedded-keyring.js';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;
/** Written into every row; a future format change bumps it and keeps reading the old one. */
export const ENVELOPE_FORMAT = 1;

/** What a row holds for one version: base64 of `iv || ciphertext || tag` for the value and for the data key. */
export interface SealedSecret {
  ciphertext: string;
  wrappedKey: string;
  masterKeyId: string;
}

/** Which row a seal belongs to; bound into the additional data of both seals. */
export interface EnvelopeBinding {
  path: string;
  version: number;
}

export function sealSecret(plaintext: string, binding: EnvelopeBinding, masterKey: MasterKey): SealedSecret {
  const dataKey = randomBytes(DATA_KEY_BYTES);
  try {
    const ciphertext = gcmSeal(dataKey, Buffer.from(plaintext, 'utf8'), valueAad(binding));
    const wrappedKey = gcmSeal(masterKey.key, dataKey, dataKeyAad(binding, masterKey.id));
    return {
      ciphertext: ciphertext.toString('base64'),
      wrappedKey: wrappedKey.toString('base64'),
      masterKeyId: masterKey.id,
    };
  } finally {
    dataKey.fill(0);
  }
}

export function openSecret(sealed: SealedSecret, binding: EnvelopeBinding, keyring: MasterKeyring): string {
  const dataKey = unwrapDataKey(sealed, binding, keyring);
  try {
    const plaintext = gcmOpen(dataKey, Buffer.from(sealed.ciphertext, 'base64'), valueAad(binding));
    if (!plaintext) throw tampered(binding, 'the ciphertext failed authentication');
    return plaintext.toString('utf8');
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Re-wraps the data key under `to` without touching the value's ciphertext: master-key rotation is one small
 * seal per row, and the value is never decrypted.
 */
export function rewrapSecret(
  sealed: SealedSecret,
  binding: EnvelopeBinding,
  keyring: MasterKeyring,
  to: MasterKey,
): SealedSecret {
  const dataKey = unwrapDataKey(sealed, binding, keyring);
  try {
    const wrappedKey = gcmSeal(to.key, dataKey, dataKeyAad(binding, to.id));
    return { ciphertext: sealed.ciphertext, wrappedKey: wrappedKey.toString('base64'), masterKeyId: to.id };
  } finally {
    dataKey.fill(0);
  }
}

function unwrapDataKey(sealed: SealedSecret, binding: EnvelopeBinding, keyring: MasterKeyring): Buffer {
  const masterKey = keyring.find(sealed.masterKeyId);
  if (!masterKey) {
    throw new SecretStoreError(
      'E_MASTER_KEY',
      'embedded',
      `version ${binding.version} of ${binding.path} is wrapped by master key ${sealed.masterKeyId}, which the keyring does not hold (it holds ${keyring.ids.join(', ')})`,
      { path: binding.path },
    );
  }
  const dataKey = gcmOpen(masterKey.key, Buffer.from(sealed.wrappedKey, 'base64'), dataKeyAad(binding, masterKey.id));
  if (!dataKey || dataKey.length !== DATA_KEY_BYTES) {
    throw tampered(binding, `the wrapped data key failed authentication under master key ${masterKey.id}`);
  }
  return dataKey;
}

function gcmSeal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** Null when authentication fails, so the caller can say which seal broke. */
function gcmOpen(key: Buffer, sealed: Buffer, aad: Buffer): Buffer | null {
  if (sealed.length < IV_BYTES + TAG_BYTES) return null;
  const iv = sealed.subarray(0, IV_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    return null;
  }
}

function valueAad(binding: EnvelopeBinding): Buffer {
  return Buffer.from(`keyledger/embedded/value/v${ENVELOPE_FORMAT}\n${binding.path}\n${binding.version}`, 'utf8');
}

function dataKeyAad(binding: EnvelopeBinding, masterKeyId: string): Buffer {
  return Buffer.from(
    `keyledger/embedded/data-key/v${ENVELOPE_FORMAT}\n${masterKeyId}\n${binding.path}\n${binding.version}`,
    'utf8',
  );
}

function tampered(binding: EnvelopeBinding, what: string): SecretStoreError {
  return new SecretStoreError(
    'E_SECRET_TAMPERED',
    'embedded',
    `version ${binding.version} of ${binding.path} cannot be opened: ${what}. The row was altered, moved from another path or version, or the master key is wrong`,
    { path: binding.path },
  );
}
