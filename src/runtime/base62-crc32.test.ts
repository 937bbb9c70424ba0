import { describe, expect, it } from 'vitest';
import {
  base62Crc32,
  encodeBase62,
  formatInternalKey,
  isValidGithubToken,
  isValidInternalKey,
  parseInternalKey,
} from './base62-crc32.js';

describe('base62Crc32', () => {
  it('encodes CRC32 in base62 padded to six characters', () => {
    // crc32("123456789") is the standard check value 0xCBF43926.
    expect(base62Crc32('123456789')).toBe(encodeBase62(0xcbf43926, 6));
    expect(encodeBase62(0, 6)).toBe('000000');
    expect(encodeBase62(61, 2)).toBe('0z');
    expect(encodeBase62(62, 2)).toBe('10');
  });

  it('accepts a GitHub token with a correct checksum and rejects a one-character change', () => {
    const random = 'aBcDeFgHiJkLmNoPqRsTuVwXyZ0123';
    const token = `ghp_${random}${base62Crc32(random)}`;
    expect(isValidGithubToken(token)).toBe(true);
    expect(isValidGithubToken(token.replace('aBc', 'aBd'))).toBe(false);
    expect(isValidGithubToken('ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')).toBe(false);
  });

  it('mints and validates internal keys', () => {
    const key = formatInternalKey('kl', 'live', 'Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0');
    expect(key).toMatch(/^kl_live_[0-9A-Za-z]{36}$/);
    expect(isValidInternalKey(key)).toBe(true);
    expect(parseInternalKey(key)?.env).toBe('live');
    const tampered = `${key.slice(0, -1)}${key.endsWith('0') ? '1' : '0'}`;
    expect(isValidInternalKey(tampered)).toBe(false);
    expect(() => formatInternalKey('kl', 'live', 'short')).toThrow(RangeError);
  });
});
