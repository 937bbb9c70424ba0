// Keyed fingerprints of secrets (src/README.md, invariant 1): HMAC-SHA256 under the organisation's fingerprint key. The
// registry keeps the fingerprint, so a leaked string found by the scanner can be matched to its entry without
// the string ever being stored. Plain SHA-256 would not do: a fingerprint of a short or structured key could be
// brute-forced offline; with a key held outside the registry it cannot.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError } from '../errors/keyledger-error.js';
import type { SecretValue } from './secret-value.js';

/** The shape of a fingerprint, `hmac-sha256:[<key version>:]<64 hex digits>`; the registry's schema checks it too. */
export const FINGERPRINT_PATTERN = /^hmac-sha256:(?:[A-Za-z0-9_-]{1,32}:)?[0-9a-f]{64}$/;

export interface FingerprintKey {
  /** A short label written into fingerprints so that the key can be rotated: `hmac-sha256:<version>:<hex>`. */
  version: string;
  key: Buffer;
}

export function fingerprintSecret(secret: SecretValue | string, fingerprintKey: FingerprintKey): string {
  const text = typeof secret === 'string' ? secret : secret.reveal();
  const digest = createHmac('sha256', fingerprintKey.key).update(text, 'utf8').digest('hex');
  return `hmac-sha256:${fingerprintKey.version}:${digest}`;
}

/** Compares a candidate secret with a recorded fingerprint in constant time. */
export function fingerprintMatches(secret: SecretValue | string, fingerprint: string, key: FingerprintKey): boolean {
  if (!FINGERPRINT_PATTERN.test(fingerprint)) return false;
  const expected = Buffer.from(fingerprintSecret(secret, key));
  const actual = Buffer.from(fingerprint);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The hex digest part of a fingerprint, for indexed lookups. */
export function fingerprintDigest(fingerprint: string): string {
  return fingerprint.slice(fingerprint.lastIndexOf(':') + 1);
}

/**
 * Loads the fingerprint key from `KEYLEDGER_FINGERPRINT_KEY` (base64 or hex, at least 32 bytes) or from a key
 * file, creating the file (mode 0600) with a random key on first use.
 */
export async function loadFingerprintKey(options: {
  env: NodeJS.ProcessEnv;
  keyFile: string;
  create?: boolean;
}): Promise<FingerprintKey> {
  const fromEnv = options.env.KEYLEDGER_FINGERPRINT_KEY;
  if (fromEnv) return { version: 'v1', key: decodeKeyText(fromEnv, 'KEYLEDGER_FINGERPRINT_KEY') };
  try {
    const text = (await readFile(options.keyFile, 'utf8')).trim();
    const [version, encoded] = text.includes(':') ? (text.split(':', 2) as [string, string]) : ['v1', text];
    return { version, key: decodeKeyText(encoded, options.keyFile) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || options.create === false) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`cannot read the fingerprint key file ${options.keyFile}`, { cause: error });
    }
  }
  const key = randomBytes(32);
  await mkdir(dirname(options.keyFile), { recursive: true });
  await writeFile(options.keyFile, `v1:${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' }).catch(
    async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    },
  );
  await chmod(options.keyFile, 0o600);
  // Another process may have won the race to create it: read back what is on disk.
  return loadFingerprintKey({ ...options, create: false });
}

function decodeKeyText(text: string, source: string): Buffer {
  const trimmed = text.trim();
  const key =
    /^[0-9a-f]+$/i.test(trimmed) && trimmed.length % 2 === 0
      ? Buffer.from(trimmed, 'hex')
      : Buffer.from(trimmed, 'base64');
  if (key.length < 32) {
    throw new ConfigError(`the fingerprint key from ${source} must be at least 32 bytes (base64 or hex)`, {
      code: 'E_FINGERPRINT_KEY',
    });
  }
  return key;
}
