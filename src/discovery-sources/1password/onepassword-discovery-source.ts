// 1Password exports: the 1PUX format (a zip holding `export.data`: `{"accounts":[{"vaults":[{"attrs":{"name"},
// "items":[{"uuid","createdAt","updatedAt","state","overview":{"title"},"details":{"loginFields":[{"name",
// "value","designation"}],"password","notesPlain","sections":[{"fields":[{"title","value":{"concealed":...}}]}],
// "passwordHistory":[{"value","time"}]}}]}]}]}`, as 1Password documents "1PUX format"), and the CSV export
// (`Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes`). Each value that could be key material is
// matched to the registry by fingerprint and dropped.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parse } from 'csv-parse/sync';
import { UsageError } from '../../errors/keyledger-error.js';
import type { DiscoverySource, DiscoverySourceContext, SecretObservation } from '../discovery-source.js';
import { requiredOption, SECRET_LIKE_NAME } from '../discovery-source.js';
import { readZipEntry } from './zip-entry.js';

interface Candidate {
  name: string;
  value: unknown;
  /** Reported even when it matches no registry entry: a password or concealed field is a secret by kind. */
  alwaysReport: boolean;
}

export const onePassword1puxDiscoverySource: DiscoverySource = {
  name: '1password-1pux',
  description: 'a 1Password .1pux export (or its export.data): items whose fields hold registered keys',
  options: { file: { description: 'the .1pux file, or the export.data inside it', required: true } },
  async *observe(context) {
    const file = requiredOption(context, 'file');
    const bytes = await readFile(file);
    let data: unknown;
    try {
      const text = bytes[0] === 0x50 && bytes[1] === 0x4b ? readZipEntry(bytes, 'export.data') : bytes;
      if (!text) throw new Error('the archive holds no export.data');
      data = JSON.parse(text.toString('utf8'));
    } catch (error) {
      throw new UsageError(`${basename(file)} is not a 1PUX export: ${(error as Error).message}`);
    }
    const accounts = asArray(asObject(data).accounts);
    if (accounts.length === 0) throw new UsageError(`${basename(file)} has no "accounts"`);
    for (const account of accounts) {
      for (const vault of asArray(asObject(account).vaults)) {
        const vaultName = text(asObject(asObject(vault).attrs).name) ?? 'vault';
        for (const raw of asArray(asObject(vault).items)) {
          const item = asObject(raw);
          const title = text(asObject(item.overview).title) ?? text(item.uuid) ?? '?';
          const details = asObject(item.details);
          const candidates: Candidate[] = [
            { name: 'password', value: details.password, alwaysReport: true },
            { name: 'notes', value: details.notesPlain, alwaysReport: false },
          ];
          for (const f of asArray(details.loginFields)) {
            const field = asObject(f);
            const name = text(field.designation) ?? text(field.name) ?? 'field';
            candidates.push({
              name: `login:${name}`,
              value: field.value,
              alwaysReport: field.designation === 'password',
            });
          }
          for (const section of asArray(details.sections)) {
            for (const f of asArray(asObject(section).fields)) {
              const field = asObject(f);
              const name = text(field.title) ?? text(field.id) ?? 'field';
              const value = asObject(field.value);
              const concealed = typeof value.concealed === 'string';
              const inner = concealed ? value.concealed : Object.values(value).find((v) => typeof v === 'string');
              candidates.push({
                name: `field:${name}`,
                value: inner,
                alwaysReport: concealed || SECRET_LIKE_NAME.test(name),
              });
            }
          }
          for (const [i, h] of asArray(details.passwordHistory).entries())
            candidates.push({ name: `password-history:${i + 1}`, value: asObject(h).value, alwaysReport: false });
          yield* observed(context, `${vaultName}/${title}`, candidates, {
            ...epoch('createdAt', item.createdAt),
            ...epoch('updatedAt', item.updatedAt),
            ...(typeof item.state === 'string' ? { detail: { state: item.state } } : {}),
          });
        }
      }
    }
  },
};

export const onePasswordCsvDiscoverySource: DiscoverySource = {
  name: '1password-csv',
  description: 'a 1Password CSV export: rows whose password, notes or any other column holds a registered key',
  options: { file: { description: 'the .csv export', required: true } },
  async *observe(context) {
    const file = requiredOption(context, 'file');
    let rows: Record<string, string>[];
    try {
      rows = parse(await readFile(file), {
        columns: true,
        bom: true,
        relax_column_count: true,
        skip_empty_lines: true,
      });
    } catch (error) {
      throw new UsageError(`${basename(file)} is not a CSV export: ${(error as Error).message}`);
    }
    for (const [index, row] of rows.entries()) {
      const title = row.Title ?? row.title ?? `row ${index + 2}`;
      const candidates: Candidate[] = Object.entries(row)
        .filter(([column]) => !/^(title|url|website|favorite|archived|tags|username)$/i.test(column))
        .map(([column, value]) => ({ name: column.toLowerCase(), value, alwaysReport: /^password$/i.test(column) }));
      yield* observed(context, `${basename(file)}#${title}`, candidates, {});
    }
  },
};

function* observed(
  context: DiscoverySourceContext,
  location: string,
  candidates: readonly Candidate[],
  extra: Partial<SecretObservation>,
): Iterable<SecretObservation> {
  for (const { name, value, alwaysReport } of candidates) {
    if (typeof value !== 'string' || value.trim() === '') continue;
    const keyId = context.matchSecret(value.trim());
    if (!keyId && !alwaysReport) continue;
    yield { ...extra, location, name, ...(keyId ? { keyId } : {}) };
  }
}

function epoch(field: 'createdAt' | 'updatedAt', value: unknown): Partial<SecretObservation> {
  return typeof value === 'number' && Number.isFinite(value) && value > 0
    ? { [field]: new Date(value * 1000).toISOString() }
    : {};
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
