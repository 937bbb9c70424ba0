// `keyledger validate` as a service: load the registry with the policy, check that storage paths exist in their
// secret stores, and summarise. The CLI and the server render the report; neither decides anything.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PeopleDirectory } from '../directory/people-directory.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { entryStorageRef } from './key-entry-schema.js';
import { severityOf } from './policy/policy-engine.js';
import type { RegistryConfig } from './registry-config.js';
import { compareIssues, countBySeverity, type RegistryIssue } from './registry-issue.js';
import { loadRegistry } from './registry-loader.js';
import { YamlLocator } from './yaml-position.js';

export interface StorageCheckSummary {
  /** `checked` when at least one store was configured, `skipped` when none was. */
  status: 'checked' | 'skipped';
  checked: number;
  missing: number;
  /** Entries whose store is not configured, by store name. */
  skipped: Record<string, number>;
  reason?: string;
}

export interface ValidationReport {
  root: string;
  filesChecked: number;
  filesTotal: number;
  entries: number;
  issues: RegistryIssue[];
  errors: number;
  warnings: number;
  storage: StorageCheckSummary;
  durationMs: number;
}

export interface ValidateOptions {
  root: string;
  config: RegistryConfig;
  now: Date;
  people?: PeopleDirectory;
  /** Secret stores by the name entries use (`vault`, `default`...). Empty: the storage check is skipped. */
  stores?: ReadonlyMap<string, SecretStore>;
  onlyFiles?: string[];
  threads?: number;
  /** See RegistryLoadOptions.useCallingThread. */
  useCallingThread?: boolean;
  /** How many storage look-ups to run at once. */
  storageConcurrency?: number;
  /** Use the registry load cache (see RegistryLoadOptions.cache): only changed files are parsed again. */
  cache?: boolean;
}

export async function validateRegistry(options: ValidateOptions): Promise<ValidationReport> {
  const started = performance.now();
  const stores = options.stores ?? new Map<string, SecretStore>();
  const storageSeverity = severityOf('storage-exists', 'error', options.config.policy);
  const needEntries = stores.size > 0 && storageSeverity !== 'off';
  const loaded = await loadRegistry({
    root: options.root,
    config: options.config,
    applyPolicy: true,
    includeEntries: needEntries,
    now: options.now,
    ...(options.people ? { people: options.people } : {}),
    ...(options.onlyFiles ? { onlyFiles: options.onlyFiles } : {}),
    ...(options.threads ? { threads: options.threads } : {}),
    ...(options.useCallingThread ? { useCallingThread: true } : {}),
    ...(options.cache ? { cache: true } : {}),
  });

  const storage: StorageCheckSummary = { status: 'skipped', checked: 0, missing: 0, skipped: {} };
  const issues = [...loaded.issues];
  if (storageSeverity === 'off') {
    storage.reason = 'the storage-exists rule is off';
  } else if (stores.size === 0) {
    storage.reason = 'no secret store is configured (keyledger.config.yaml `stores`)';
  } else {
    storage.status = 'checked';
    const onlyFiles = options.onlyFiles ? new Set(options.onlyFiles) : undefined;
    const targets = loaded.entries.filter(({ entry, file }) => entry.storage && (!onlyFiles || onlyFiles.has(file)));
    let next = 0;
    const missing: { file: string; keyId: string; store: string; path: string; field: string }[] = [];
    const check = async () => {
      while (next < targets.length) {
        const { file, entry } = targets[next++]!;
        const ref = entryStorageRef(entry)!;
        const store = stores.get(ref.store);
        if (!store) {
          storage.skipped[ref.store] = (storage.skipped[ref.store] ?? 0) + 1;
          continue;
        }
        storage.checked += 1;
        if (!(await store.exists(ref.path))) {
          storage.missing += 1;
          missing.push({
            file,
            keyId: entry.key_id,
            store: ref.store,
            path: ref.path,
            field: entry.storage?.path !== undefined ? 'storage.path' : 'storage.vault_path',
          });
        }
      }
    };
    await Promise.all(Array.from({ length: options.storageConcurrency ?? 16 }, check));
    for (const item of missing) {
      const text = await readFile(join(options.root, item.file), 'utf8');
      const { line, column } = new YamlLocator(text).locate(item.field.split('.'));
      issues.push({
        severity: storageSeverity,
        rule: 'storage-exists',
        message: `no secret at "${item.path}" in store "${item.store}"`,
        file: item.file,
        line,
        column,
        field: item.field,
        keyId: item.keyId,
      });
    }
    issues.sort(compareIssues);
  }
  const { errors, warnings } = countBySeverity(issues);
  return {
    root: options.root,
    filesChecked: options.onlyFiles ? countPresent(loaded.files, options.onlyFiles) : loaded.files.length,
    filesTotal: loaded.files.length,
    entries: loaded.keyIds.size,
    issues,
    errors,
    warnings,
    storage,
    durationMs: Math.round(performance.now() - started),
  };
}

function countPresent(files: readonly string[], wanted: readonly string[]): number {
  const set = new Set(wanted);
  return files.filter((file) => set.has(file)).length;
}
