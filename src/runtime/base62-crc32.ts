// Checksummed token formats: GitHub's tokens and our own `internal` keys end in the CRC32 of their random part,
// written in base62 (0-9A-Za-z) and left-padded to 6 characters. A scanner that checks it rejects look-alikes
// offline, and the issuer (lifecycle) imports `base62Crc32` from here to mint keys in the same format.
import { crc32 } from 'node:zlib';

export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Writes a non-negative integer in base62, left-padded with `0` to `width` characters. */
export function encodeBase62(value: number, width: number): string {
  let rest = value;
  let text = '';
  while (rest > 0) {
    text = BASE62_ALPHABET[rest % 62] + text;
    rest = Math.floor(rest / 62);
  }
  return text.padStart(width, '0');
}

/** The 6-character base62 CRC32 of `text` (UTF-8), as GitHub's token checksum is written. */
export function base62Crc32(text: string): string {
  return encodeBase62(crc32(Buffer.from(text, 'utf8')), 6);
}

const GITHUB_TOKEN = /^(gh[pousr])_([0-9A-Za-z]{30})([0-9A-Za-z]{6})$/;

/** True when a `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` token's last 6 characters are the checksum of the 30 before. */
export function isValidGithubToken(token: string): boolean {
  const parts = GITHUB_TOKEN.exec(token);
  return parts !== null && base62Crc32(parts[2] as string) === parts[3];
}

/** Our `internal` key format: `<prefix>_<env>_<30 base62 random><6 base62 CRC32 of the random part>`. */
export const INTERNAL_KEY_RANDOM_LENGTH = 30;
const INTERNAL_KEY = /^([a-z][a-z0-9]{1,15})_(live|test|dev|stage|staging|prod)_([0-9A-Za-z]{30})([0-9A-Za-z]{6})$/;

export interface InternalKeyParts {
  prefix: string;
  env: string;
  random: string;
  checksum: string;
}

/** Splits an internal key into its parts, or null when the shape is wrong (the checksum is not checked). */
export function parseInternalKey(key: string): InternalKeyParts | null {
  const parts = INTERNAL_KEY.exec(key);
  if (parts === null) return null;
  return {
    prefix: parts[1] as string,
    env: parts[2] as string,
    random: parts[3] as string,
    checksum: parts[4] as string,
  };
}

/** Assembles an internal key from its prefix, environment and 30 random base62 characters. */
export function formatInternalKey(prefix: string, env: string, random: string): string {
  const key = `${prefix}_${env}_${random}${base62Crc32(random)}`;
  if (parseInternalKey(key) === null) {
    throw new RangeError('an internal key needs a lowercase prefix, a known env and 30 base62 characters');
  }
  return key;
}

/** True when the key has the internal shape and its checksum matches. */
export function isValidInternalKey(key: string): boolean {
  const parts = parseInternalKey(key);
  return parts !== null && base62Crc32(parts.random) === parts.checksum;
}

/** Validators by name, so that rule definitions stay plain data that can cross into worker threads. */
export const CHECKSUM_VALIDATORS = {
  'github-crc32': isValidGithubToken,
  'internal-crc32': isValidInternalKey,
} as const satisfies Record<string, (secret: string) => boolean>;

export type ChecksumValidatorName = keyof typeof CHECKSUM_VALIDATORS;
