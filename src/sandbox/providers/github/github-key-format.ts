// GitHub's token formats: `ghp_`/`ghs_`/... + 30 base62 characters + the 6-character base62 CRC32 of those 30
// (the scanner checks it offline), and fine-grained PATs `github_pat_` + 22 + `_` + 59 base62 characters.
import { createHash } from 'node:crypto';
import { base62Crc32 } from '../../../runtime/base62-crc32.js';
import { BASE62, type RandomSource, randomString } from '../../sandbox-seed.js';

export type GithubTokenPrefix = 'ghp' | 'gho' | 'ghu' | 'ghs' | 'ghr';

export function generateGithubToken(prefix: GithubTokenPrefix, random: RandomSource): string {
  const body = randomString(BASE62, 30, random);
  return `${prefix}_${body}${base62Crc32(body)}`;
}

export function generateFineGrainedPat(random: RandomSource): string {
  return `github_pat_${randomString(BASE62, 22, random)}_${randomString(BASE62, 59, random)}`;
}

/** `hashed_token` as GitHub's audit log writes it: base64 of the SHA-256 of the raw token. */
export function hashedToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64');
}
