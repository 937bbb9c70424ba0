// Stripe's API key formats: secret keys `sk_live_` / `sk_test_`, restricted keys `rk_live_` / `rk_test_`, each
// followed by 24 to 99 base62 characters (newer keys are long: the account's id is folded in). Stripe's API never
// names a key by an id; keyledger refers to one by its visible ends and a short hash (`keyledgerStripeKeyId`).
import { createHash } from 'node:crypto';
import { BASE62, type RandomSource, randomString } from '../../sandbox-seed.js';

export type StripeKeyPrefix = 'sk_live' | 'sk_test' | 'rk_live' | 'rk_test';

export const STRIPE_KEY_PATTERN = /^(sk|rk)_(live|test)_[0-9A-Za-z]{24,99}$/;

export function generateStripeKey(prefix: StripeKeyPrefix, random: RandomSource): string {
  return `${prefix}_${randomString(BASE62, 99, random)}`;
}

/** `sk_live_…abcd-1a2b3c4d`: what the Dashboard shows of a key, and a hash that tells two keys apart. */
export function keyledgerStripeKeyId(secret: string): string {
  return `${secret.slice(0, 8)}…${secret.slice(-4)}-${createHash('sha256').update(secret).digest('hex').slice(0, 8)}`;
}

/** How Stripe's errors show a key: the prefix, asterisks, the last four characters. */
export function redactedStripeKey(secret: string): string {
  return `${secret.slice(0, 8)}${'*'.repeat(Math.max(0, secret.length - 12))}${secret.slice(-4)}`;
}
