// Canary secrets for rule fixtures: fake tokens assembled at run time from a seeded generator, so no complete
// token appears in this repository's source (our own scans and GitHub's push protection stay quiet), and none of
// them was ever issued.
import { base62Crc32, formatInternalKey } from '../../runtime/base62-crc32.js';

/** A rule's own cases: what it must find, and look-alikes it must not. */
export interface RuleFixture {
  ruleId: string;
  /** Each text must yield exactly one finding of the rule, with this secret (scanned as `path`, or a .txt file). */
  positives: Array<{ text: string; secret: string; path?: string }>;
  /** Each text must yield no finding of the rule. */
  negatives: Array<string | { text: string; path: string }>;
}

/** The file a case is scanned as when it names none. */
export const FIXTURE_PATH = 'fixture.txt';

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const HEX = '0123456789abcdef';
export const UPPER32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const LOWER36 = '0123456789abcdefghijklmnopqrstuvwxyz';
export const UPPER36 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const URL_SAFE = `${BASE62}_-`;

/** Deterministic pseudo-random characters (a linear congruential generator): high entropy, reproducible. */
export function fakeChars(seed: number, length: number, alphabet = BASE62): string {
  let state = seed >>> 0 || 1;
  let text = '';
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    text += alphabet[(state >>> 8) % alphabet.length];
  }
  return text;
}

/** Joins parts so that the token never appears whole in source. */
export const t = (...parts: string[]): string => parts.join('');

/** A canary UUID (8-4-4-4-12 hex). */
export function fakeUuid(seed: number): string {
  const hex = fakeChars(seed, 32, HEX);
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join('-');
}

/** A canary GitHub token (`ghp_`, `gho_`...): 30 random characters and their base62 CRC32 checksum. */
export function githubToken(prefix: string, seed: number): string {
  return githubTokenOf(prefix, fakeChars(seed, 30));
}

/** The GitHub token of these 30 random characters: they and their base62 CRC32 checksum, as GitHub issues it. */
export function githubTokenOf(prefix: string, random: string): string {
  return t(prefix, '_', random, base62Crc32(random));
}

/** A GitHub token look-alike whose checksum does not match: the GitHub rules must not report it. */
export function badChecksumGithubToken(prefix: string, seed: number): string {
  const token = githubToken(prefix, seed);
  const last = token.at(-1) === 'a' ? 'b' : 'a';
  return token.slice(0, -1) + last;
}

/** A canary keyledger internal key (prefix_env_ + 30 random + CRC32 checksum). */
export function internalKey(prefix: string, env: string, seed: number): string {
  return formatInternalKey(prefix, env, fakeChars(seed, 30));
}
