// Cloudflare's API token formats. New and rolled tokens are scannable: `cfut_` (user token) + 40 alphanumeric
// characters + an 8-character hexadecimal checksum; Cloudflare does not publish the checksum's construction, so the
// sandbox uses the CRC32 of the 40 characters. Older tokens are 40 characters of [A-Za-z0-9_-] and keep working.
// A token's id is 32 lowercase hex characters.
import { crc32 } from 'node:zlib';
import { BASE62, type RandomSource, randomString } from '../../sandbox-seed.js';

const HEX = '0123456789abcdef';

export const CLOUDFLARE_USER_TOKEN_PATTERN = /^cfut_[0-9A-Za-z]{40}[0-9a-f]{8}$/;
export const CLOUDFLARE_LEGACY_TOKEN_PATTERN = /^[0-9A-Za-z_-]{40}$/;
export const CLOUDFLARE_TOKEN_ID_PATTERN = /^[0-9a-f]{32}$/;

export function generateCloudflareUserToken(random: RandomSource): string {
  const body = randomString(BASE62, 40, random);
  return `cfut_${body}${(crc32(body) >>> 0).toString(16).padStart(8, '0')}`;
}

export function generateCloudflareTokenId(random: RandomSource): string {
  return randomString(HEX, 32, random);
}
