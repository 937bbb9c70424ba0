// A Bitwarden unencrypted JSON export (`bw export --format json`, or the web vault's "Export vault" as .json):
// `{"encrypted":false,"folders":[{"id","name"}],"items":[{"id","folderId","type","name","notes","login":
// {"username","password","totp","uris"},"fields":[{"name","value","type"}],"creationDate","revisionDate"}]}`.
// Each value is matched to the registry by fingerprint and dropped; an encrypted export is refused, not guessed at.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { UsageError } from '../../errors/keyledger-error.js';
import type { DiscoverySource, SecretObservation } from '../discovery-source.js';
import { requiredOption, SECRET_LIKE_NAME } from '../discovery-source.js';

/** Bitwarden's custom field types: 0 text, 1 hidden, 2 boolean, 3 linked. */
const HIDDEN_FIELD = 1;

export const bitwardenJsonDiscoverySource: DiscoverySource = {
  name: 'bitwarden-json',
  description: 'a Bitwarden JSON export: items whose passwords, hidden fields or notes hold registered keys',
  options: { file: { description: 'the unencrypted .json export', required: true } },
  async *observe(context) {
    const file = requiredOption(context, 'file');
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new UsageError(`${basename(file)} is not a Bitwarden JSON export: ${(error as Error).message}`);
    }
    const doc = asObject(parsed);
    if (doc.encrypted === true)
      throw new UsageError(`${basename(file)} is an encrypted export; export it unencrypted to a protected folder`);
    if (!Array.isArray(doc.items)) throw new UsageError(`${basename(file)} has no "items" list`);
    const folders = new Map<string, string>();
    for (const folder of Array.isArray(doc.folders) ? doc.folders : []) {
      const f = asObject(folder);
      if (typeof f.id === 'string' && typeof f.name === 'string') folders.set(f.id, f.name);
    }
    for (const raw of doc.items) {
      const item = asObject(raw);
      const title = typeof item.name === 'string' ? item.name : String(item.id ?? '?');
      const folder = typeof item.folderId === 'string' ? folders.get(item.folderId) : undefined;
      const location = folder ? `${folder}/${title}` : title;
      const dates = {
        ...(isoOrUndefined(item.creationDate) ? { createdAt: isoOrUndefined(item.creationDate)! } : {}),
        ...(isoOrUndefined(item.revisionDate) ? { updatedAt: isoOrUndefined(item.revisionDate)! } : {}),
      };
      const login = asObject(item.login);
      const candidates: Array<{ name: string; value: unknown; alwaysReport: boolean }> = [
        { name: 'password', value: login.password, alwaysReport: true },
        { name: 'notes', value: item.notes, alwaysReport: false },
      ];
      for (const rawField of Array.isArray(item.fields) ? item.fields : []) {
        const field = asObject(rawField);
        const name = typeof field.name === 'string' ? field.name : 'field';
        candidates.push({
          name: `field:${name}`,
          value: field.value,
          alwaysReport: field.type === HIDDEN_FIELD || SECRET_LIKE_NAME.test(name),
        });
      }
      for (const { name, value, alwaysReport } of candidates) {
        if (typeof value !== 'string' || value === '') continue;
        const keyId = context.matchSecret(value.trim());
        if (!keyId && !alwaysReport) continue;
        const observation: SecretObservation = { location, name, ...dates, ...(keyId ? { keyId } : {}) };
        yield observation;
      }
    }
  },
};

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function isoOrUndefined(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}
