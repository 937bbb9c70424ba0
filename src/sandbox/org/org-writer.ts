// Writes a generated organisation to a directory: the registry (one YAML entry per registered key, in the
// schema of src/registry/key-entry-schema.ts, plus keyledger.config.yaml pointing at the people directory), the
// people directory CSV (email,name,team,status,left_at), the ground truth (JSON, no secrets) and, separately and
// readable by the owner only, the sandbox keys' secrets (tests and benches that leak or verify keys need them).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { KeyEntryInput } from '../../registry/key-entry-schema.js';
import type { Organisation, OrgKey } from './org-model.js';

/** What a working organisation adds to the bare files (src/sandbox/working-org.ts). */
export interface OrgWriteOptions {
  /** Sections of keyledger.config.yaml beside `registry` and `policy`: `stores`, `tickets`... */
  config?: Record<string, unknown>;
  /** An entry's `consumed_by` (default: the names of the teams that use the key). */
  consumersOf?: (key: OrgKey) => KeyEntryInput['consumed_by'];
  /** An entry's `fingerprint` (HMAC of the secret under the registry's fingerprint key), when known. */
  fingerprintOf?: (key: OrgKey) => string | undefined;
}

/** Where a key's secret lives in the Vault KV mount (`secret` by default): `<team>/<key_id>`. */
export function orgVaultPath(key: OrgKey): string {
  return `${key.team}/${key.keyId}`;
}

export interface OrgWriteResult {
  registryDir: string;
  peopleFile: string;
  groundTruthFile: string;
  secretsFile: string;
  entries: number;
}

const DAY_MS = 86_400_000;

/** The registry entry a registered key has (docs/registry.md's fields, in the schema's order). */
export function registryEntryFor(key: OrgKey, now: string, options: OrgWriteOptions = {}): KeyEntryInput {
  const created = Date.parse(key.createdAt);
  const frequency = key.admin ? 90 : key.provider === 'aws-iam' ? 180 : 365;
  const fingerprint = options.fingerprintOf?.(key);
  const entry: KeyEntryInput = {
    key_id: key.keyId,
    description: key.description,
    ...(key.registryOwnerTeam ? { owner_team: key.registryOwnerTeam } : {}),
    ...(key.registryOwnerIndividual ? { owner_individual: key.registryOwnerIndividual } : {}),
    created_at: key.createdAt,
    // What the organisation declared (a year, the default policy), not the provider's own expiry of the key.
    expiration: new Date(created + 365 * DAY_MS).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    last_rotated: key.createdAt,
    status: key.registryStatus ?? 'active',
    provider_key_id: key.providerKeyId,
    ...(fingerprint ? { fingerprint } : {}),
    // The kind is the adapter's name for it (capabilities().kinds), so what the registry says agrees with what the
    // adapter would read off the account.
    scope: { provider: key.provider, account_id: key.account, kind: key.kind, permissions: key.permissions },
    storage: { vault_path: orgVaultPath(key) },
    consumed_by: options.consumersOf?.(key) ?? key.consumers,
    ...(key.expectedSources ? { expected_sources: key.expectedSources } : {}),
    audit: {
      ...(key.registryOwnerTeam ? { rotation_owner: `${key.registryOwnerTeam}-team` } : {}),
      rotation_frequency_days: frequency,
      last_audit: new Date(Math.max(created, Date.parse(now) - 200 * DAY_MS)).toISOString().slice(0, 10),
    },
  };
  return entry;
}

function csvField(value: string | undefined): string {
  const text = value ?? '';
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The people directory as the HR export looks: email,name,team,status,left_at. */
export function peopleCsv(org: Organisation): string {
  const lines = ['email,name,team,status,left_at'];
  for (const person of org.people) {
    lines.push(
      [person.email, person.name, person.team, person.status, person.leftAt?.slice(0, 10)].map(csvField).join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The ground truth: every key with what is true about it, secrets left out. */
export function groundTruth(org: Organisation): unknown {
  return {
    organisation: org.name,
    domain: org.domain,
    summary: org.summary,
    teams: org.teams,
    repositories: org.repositories,
    people: org.people,
    keys: org.keys.map(({ secret: _secret, publicKey: _publicKey, ...rest }) => rest),
  };
}

export async function writeOrg(org: Organisation, dir: string, options: OrgWriteOptions = {}): Promise<OrgWriteResult> {
  const registryDir = join(dir, 'registry');
  const keysDir = join(registryDir, 'keys');
  await mkdir(keysDir, { recursive: true });
  const peopleFile = join(dir, 'people.csv');
  const groundTruthFile = join(dir, 'ground-truth.json');
  const secretsFile = join(dir, 'sandbox-secrets.json');
  await writeFile(peopleFile, peopleCsv(org));
  await writeFile(
    join(registryDir, 'keyledger.config.yaml'),
    stringify({
      registry: { keys: 'keys/**/*.yaml' },
      policy: { people_directory: '../people.csv' },
      ...(options.config ?? {}),
    }),
  );
  const registered = org.keys.filter((key) => key.registered);
  for (const team of new Set(registered.map((key) => key.registryOwnerTeam ?? 'unowned'))) {
    await mkdir(join(keysDir, team), { recursive: true });
  }
  // Files are written a batch at a time: a 100k registry is 80,000 files.
  const batch = 256;
  for (let i = 0; i < registered.length; i += batch) {
    await Promise.all(
      registered
        .slice(i, i + batch)
        .map((key) =>
          writeFile(
            join(keysDir, key.registryOwnerTeam ?? 'unowned', `${key.keyId}.yaml`),
            stringify(registryEntryFor(key, org.summary.now, options)),
          ),
        ),
    );
  }
  await writeFile(groundTruthFile, `${JSON.stringify(groundTruth(org))}\n`);
  const secrets = Object.fromEntries(org.keys.map((key) => [key.keyId, key.secret]));
  await writeFile(secretsFile, `${JSON.stringify(secrets)}\n`, { mode: 0o600 });
  return { registryDir, peopleFile, groundTruthFile, secretsFile, entries: registered.length };
}
