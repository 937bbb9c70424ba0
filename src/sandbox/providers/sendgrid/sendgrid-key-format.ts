// SendGrid's API key format: `SG.` + the key's id (22 characters of base64url) + `.` + 43 characters of base64url.
// The middle part is the `api_key_id` the API addresses the key by, so a key names its own id.
import { type RandomSource, randomString } from '../../sandbox-seed.js';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export const SENDGRID_API_KEY_PATTERN = /^SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;

export function generateSendgridApiKey(random: RandomSource): { id: string; key: string } {
  const id = randomString(BASE64URL, 22, random);
  return { id, key: `SG.${id}.${randomString(BASE64URL, 43, random)}` };
}

/** The `api_key_id` inside a key, or undefined when the text is not a SendGrid key. */
export function sendgridKeyId(key: string): string | undefined {
  return SENDGRID_API_KEY_PATTERN.test(key) ? key.slice(3, 25) : undefined;
}
