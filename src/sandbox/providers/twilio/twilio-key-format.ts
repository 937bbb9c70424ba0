// Twilio's identifiers: a two-letter type prefix and 32 lowercase hex characters (`AC` accounts, `SK` API keys,
// `AE` Monitor events); an API key's secret is 32 base62 characters, shown once at creation.
import { BASE62, type RandomSource, randomString } from '../../sandbox-seed.js';

const HEX = '0123456789abcdef';

export const TWILIO_ACCOUNT_SID_PATTERN = /^AC[0-9a-f]{32}$/;
export const TWILIO_KEY_SID_PATTERN = /^SK[0-9a-f]{32}$/;
export const TWILIO_KEY_SECRET_PATTERN = /^[0-9A-Za-z]{32}$/;

export function generateTwilioSid(prefix: 'AC' | 'SK' | 'AE' | 'US', random: RandomSource): string {
  return `${prefix}${randomString(HEX, 32, random)}`;
}

export function generateTwilioKeySecret(random: RandomSource): string {
  return randomString(BASE62, 32, random);
}
