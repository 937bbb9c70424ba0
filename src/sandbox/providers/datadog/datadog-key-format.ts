// Datadog's key formats: API keys are 32 lowercase hex characters, application keys 40; both are addressed in the
// API by a UUID of their own (the key itself is never the id), and the API shows only `last4` in lists.
import { randomUUID } from 'node:crypto';
import { type RandomSource, randomString } from '../../sandbox-seed.js';

const HEX = '0123456789abcdef';

export const DATADOG_API_KEY_PATTERN = /^[0-9a-f]{32}$/;
export const DATADOG_APPLICATION_KEY_PATTERN = /^[0-9a-f]{40}$/;

export function generateDatadogApiKey(random: RandomSource): string {
  return randomString(HEX, 32, random);
}

export function generateDatadogApplicationKey(random: RandomSource): string {
  return randomString(HEX, 40, random);
}

/** A key's id (UUID v4 shape), from `random` so that generated organisations are reproducible. */
export function generateDatadogKeyId(random?: RandomSource): string {
  if (!random) return randomUUID();
  const hex = randomString(HEX, 32, random);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
