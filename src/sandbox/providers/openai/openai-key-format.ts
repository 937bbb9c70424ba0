// OpenAI's key formats: `sk-proj-` (a project key of a user), `sk-svcacct-` (a service account's key) and
// `sk-admin-` (an organisation admin key), each a long base64url body with `T3BlbkFJ` ("OpenAI" in base64) in the
// middle. Ids: `key_` + 16, `proj_` + 24, `svc_acct_` + 24, `user-` + 24 characters.
import { BASE62, type RandomSource, randomString } from '../../sandbox-seed.js';

const URLSAFE = `${BASE62}_-`;

export type OpenaiKeyPrefix = 'sk-proj' | 'sk-svcacct' | 'sk-admin';

export const OPENAI_KEY_PATTERN = /^sk-(proj|svcacct|admin)-[A-Za-z0-9_-]+T3BlbkFJ[A-Za-z0-9_-]+$/;

export function generateOpenaiKey(prefix: OpenaiKeyPrefix, random: RandomSource): string {
  return `${prefix}-${randomString(URLSAFE, 74, random)}T3BlbkFJ${randomString(URLSAFE, 74, random)}`;
}

export function generateOpenaiId(
  prefix: 'key_' | 'proj_' | 'svc_acct_' | 'user-' | 'audit_log-',
  random: RandomSource,
): string {
  return `${prefix}${randomString(BASE62, prefix === 'key_' ? 16 : 24, random)}`;
}

/** How OpenAI shows a key in lists and errors: the prefix, asterisks, the last four characters. */
export function redactedOpenaiKey(key: string): string {
  const prefix = key.slice(0, key.indexOf('-', 3) + 1);
  return `${prefix}****${key.slice(-4)}`;
}
