// Specification of the envelope: what a row holds, and every way a row can be wrong failing loudly.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretStoreError } from '../secret-store-error.js';
import { openSecret, rewrapSecret, sealSecret } from './embedded-envelope.js';
import { MasterKeyring, masterKeyFromBytes } from './embedded-keyring.js';

const CANARY = 'sk_live_CANARY_5f1d2b9e7c3a4e8f';
const keyA = masterKeyFromBytes(randomBytes(32), 'test');
const keyB = masterKeyFromBytes(randomBytes(32), 'test');
const binding = { path: 'payments/stripe-live', version: 3 };

function flipByte(base64: string, offset: number): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[offset] = bytes[offset]! ^ 0x01;
  return bytes.toString('base64');
}

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(SecretStoreError);
    expect(String((error as Error).message)).not.toContain(CANARY);
    return (error as SecretStoreError).code;
  }
  throw new Error('expected the action to throw');
}

describe('embedded envelope', () => {
  it('round-trips a value and never stores the plaintext', () => {
    const sealed = sealSecret(CANARY, binding, keyA);
    expect(sealed.masterKeyId).toBe(keyA.id);
    const stored = JSON.stringify(sealed);
    expect(stored).not.toContain(CANARY);
    expect(Buffer.from(sealed.ciphertext, 'base64').includes(Buffer.from(CANARY))).toBe(false);
    expect(openSecret(sealed, binding, new MasterKeyring(keyA))).toBe(CANARY);
  });

  it('uses a fresh data key and nonce for every seal', () => {
    const first = sealSecret(CANARY, binding, keyA);
    const second = sealSecret(CANARY, binding, keyA);
    expect(first.ciphertext).not.toBe(second.ciphertext);
    expect(first.wrappedKey).not.toBe(second.wrappedKey);
  });

  it('fails with E_SECRET_TAMPERED on a tampered ciphertext, tag or nonce', () => {
    const sealed = sealSecret(CANARY, binding, keyA);
    const keyring = new MasterKeyring(keyA);
    const length = Buffer.from(sealed.ciphertext, 'base64').length;
    for (const offset of [0, 12, length - 1]) {
      expect(
        codeOf(() => openSecret({ ...sealed, ciphertext: flipByte(sealed.ciphertext, offset) }, binding, keyring)),
      ).toBe('E_SECRET_TAMPERED');
    }
    expect(codeOf(() => openSecret({ ...sealed, ciphertext: '' }, binding, keyring))).toBe('E_SECRET_TAMPERED');
  });

  it('fails with E_SECRET_TAMPERED on a tampered wrapped key', () => {
    const sealed = sealSecret(CANARY, binding, keyA);
    expect(
      codeOf(() =>
        openSecret({ ...sealed, wrappedKey: flipByte(sealed.wrappedKey, 20) }, binding, new MasterKeyring(keyA)),
      ),
    ).toBe('E_SECRET_TAMPERED');
  });

  it('fails when a row is moved to another path or version, or its wrapped key swapped with another row', () => {
    const sealed = sealSecret(CANARY, binding, keyA);
    const keyring = new MasterKeyring(keyA);
    expect(codeOf(() => openSecret(sealed, { ...binding, path: 'payments/other' }, keyring))).toBe('E_SECRET_TAMPERED');
    expect(codeOf(() => openSecret(sealed, { ...binding, version: 4 }, keyring))).toBe('E_SECRET_TAMPERED');
    const neighbour = sealSecret('another value', { path: binding.path, version: 4 }, keyA);
    expect(codeOf(() => openSecret({ ...sealed, wrappedKey: neighbour.wrappedKey }, binding, keyring))).toBe(
      'E_SECRET_TAMPERED',
    );
  });

  it('fails with E_MASTER_KEY when the keyring lacks the key, and E_SECRET_TAMPERED when a row lies about its key', () => {
    const sealed = sealSecret(CANARY, binding, keyA);
    expect(codeOf(() => openSecret(sealed, binding, new MasterKeyring(keyB)))).toBe('E_MASTER_KEY');
    const forged = { ...sealSecret(CANARY, binding, keyB), masterKeyId: keyA.id };
    expect(codeOf(() => openSecret(forged, binding, new MasterKeyring(keyA, [keyB])))).toBe('E_SECRET_TAMPERED');
  });

  it('re-wraps the data key under a new master key without changing the ciphertext', () => {
    const sealed = sealSecret(CANARY, binding, keyA);
    const rewrapped = rewrapSecret(sealed, binding, new MasterKeyring(keyB, [keyA]), keyB);
    expect(rewrapped.ciphertext).toBe(sealed.ciphertext);
    expect(rewrapped.masterKeyId).toBe(keyB.id);
    expect(openSecret(rewrapped, binding, new MasterKeyring(keyB))).toBe(CANARY);
    expect(codeOf(() => openSecret(rewrapped, binding, new MasterKeyring(keyA)))).toBe('E_MASTER_KEY');
  });
});
