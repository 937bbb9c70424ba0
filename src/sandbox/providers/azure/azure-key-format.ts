// Entra ID (Azure AD) application password formats: a client secret is 40 characters — three characters, then
// `8Q~` (the version marker of the current format), then 34 characters of [A-Za-z0-9._~-]; Graph shows its first
// three characters as `hint`. Key ids, application (client) ids and tenant ids are GUIDs.
import { randomUUID } from 'node:crypto';
import { BASE62, type RandomSource, randomString } from '../../sandbox-seed.js';

export const AZURE_CLIENT_SECRET_PATTERN = /^[A-Za-z0-9._~-]{3}8Q~[A-Za-z0-9._~-]{34}$/;

export function generateAzureClientSecret(random: RandomSource): string {
  return `${randomString(`${BASE62}_-`, 3, random)}8Q~${randomString(`${BASE62}.~_-`, 34, random)}`;
}

export function generateAzureGuid(): string {
  return randomUUID();
}
