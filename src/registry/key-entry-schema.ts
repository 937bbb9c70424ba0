// The registry entry schema (docs/registry.md, "Entry fields"), written once; the KeyEntry type is inferred from it.
// Entries are loose objects: a field we do not know is kept (the writer round-trips it) and reported as a
// warning by `unknownFields`, never silently dropped. Which fields are *required* is policy (registry/policy/),
// so that a missing owner reads as "owner-required" with its position, not as a bare parse failure.
import { isIP } from 'node:net';
import { z } from 'zod';
import { FINGERPRINT_PATTERN } from '../secrets/secret-fingerprint.js';
import { parseInstant } from './registry-dates.js';

/**
 * A timestamp or date as YAML gives it (text; a Date from a YAML 1.1 parser or a caller), normalised to text. The
 * text branch comes first and carries its own check: a union of plain types with one refinement and transform
 * over it costs twice as much per entry, which a 100,000-entry validate feels.
 */
const INSTANT_MESSAGE = 'expected an ISO 8601 date or timestamp, e.g. 2026-04-01 or 2026-04-01T10:00:00Z';
const instant = z.union([
  z.string().refine((value) => parseInstant(value) !== null, { message: INSTANT_MESSAGE }),
  z
    .date()
    .refine((value) => parseInstant(value) !== null, { message: INSTANT_MESSAGE })
    .transform((value) => value.toISOString().replace(/\.000Z$/, 'Z')),
]);

/** An id written as text or as a number (`account_id: 123456789012`), kept as text. */
const idText = z.union([z.string(), z.number().transform(String)]);

const nonEmpty = z.string().trim().min(1, { message: 'must not be empty' });

export const KEY_STATUSES = ['active', 'rotating', 'revoked', 'retired'] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

export const scopeSchema = z.looseObject({
  provider: nonEmpty,
  account_id: idText.optional(),
  /** The kind of credential, where one provider issues several (GitHub: `deploy-key`, `fine-grained-pat`). */
  kind: nonEmpty.optional(),
  permissions: z.array(z.string()).optional(),
  webhook_endpoints: z.array(z.string()).optional(),
});

export const storageSchema = z
  .looseObject({
    vault_path: nonEmpty.optional(),
    store: nonEmpty.optional(),
    path: nonEmpty.optional(),
  })
  .superRefine((storage, ctx) => {
    if (storage.vault_path === undefined && storage.path === undefined) {
      ctx.addIssue({ code: 'custom', message: 'storage needs `vault_path`, or `store` and `path`' });
    }
    if (storage.store !== undefined && storage.path === undefined) {
      ctx.addIssue({ code: 'custom', message: '`store` needs a `path` beside it', path: ['path'] });
    }
  });

/** One consumer of a key: a bare name (a team or service) or a described place. */
export const consumerSchema = z.union([
  nonEmpty,
  z.looseObject({
    kubernetes_secret: nonEmpty.optional(),
    namespace: nonEmpty.optional(),
    external_secret: nonEmpty.optional(),
    github_actions_secret: nonEmpty.optional(),
    repository: nonEmpty.optional(),
    env_file: nonEmpty.optional(),
    service: nonEmpty.optional(),
    team: nonEmpty.optional(),
    host: nonEmpty.optional(),
    probe: z.looseObject({}).optional(),
  }),
]);

export const auditSchema = z.looseObject({
  rotation_owner: nonEmpty.optional(),
  rotation_frequency_days: z.number().int().positive().optional(),
  last_audit: instant.optional(),
});

/**
 * Where a key is expected to be used from (audit-log enrichment, src/audit/): IP addresses, CIDR blocks, or the name of a provider
 * service that acts for the key's holder (`iam.amazonaws.com`). A use from anywhere else is flagged.
 */
export const expectedSourceSchema = nonEmpty.refine((value) => isSourceSpec(value), {
  message: 'expected an IP address, a CIDR block (10.0.0.0/8) or a service host name (iam.amazonaws.com)',
});

function isSourceSpec(value: string): boolean {
  const [address, bits, extra] = value.split('/');
  if (extra !== undefined || address === undefined) return false;
  const family = isIP(address);
  if (bits !== undefined) {
    if (family === 0 || !/^\d{1,3}$/.test(bits)) return false;
    return Number(bits) <= (family === 4 ? 32 : 128);
  }
  return family !== 0 || /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i.test(value);
}

export const keyEntrySchema = z.looseObject({
  key_id: nonEmpty,
  description: z.string().optional(),
  purpose: z.string().optional(),
  owner_team: nonEmpty.optional(),
  owner_individual: nonEmpty.optional(),
  created_at: instant.optional(),
  expiration: instant.optional(),
  last_rotated: instant.optional(),
  status: z.enum(KEY_STATUSES).default('active'),
  /** The provider's own id of the key (AWS access key id, Datadog key id...), never the secret. */
  provider_key_id: idText.optional(),
  /** HMAC-SHA256 of the secret under the organisation's fingerprint key (src/README.md, invariant 1). */
  fingerprint: z
    .string()
    .regex(FINGERPRINT_PATTERN, { message: 'expected hmac-sha256:[<key version>:]<64 hex digits>' })
    .optional(),
  tags: z.array(z.string()).optional(),
  justification: z.string().optional(),
  scope: scopeSchema.optional(),
  storage: storageSchema.optional(),
  consumed_by: z.array(consumerSchema).optional(),
  expected_sources: z.array(expectedSourceSchema).optional(),
  audit: auditSchema.optional(),
});

export type KeyEntry = z.output<typeof keyEntrySchema>;
export type KeyEntryInput = z.input<typeof keyEntrySchema>;
export type Consumer = z.output<typeof consumerSchema>;

/** The field order the writer uses for new entries: docs/registry.md's order. */
export const KEY_ENTRY_FIELD_ORDER = Object.keys(keyEntrySchema.shape);

const KNOWN_KEYS: Record<string, ReadonlySet<string>> = {
  '': new Set(Object.keys(keyEntrySchema.shape)),
  storage: new Set(Object.keys(storageSchema.shape ?? {})),
  audit: new Set(Object.keys(auditSchema.shape)),
};

/**
 * Field paths present in a raw entry that the schema does not know. `scope` and `consumed_by` items are open by
 * design (provider-specific fields), so only the top level, `storage` and `audit` are checked.
 */
export function unknownFields(raw: unknown): string[][] {
  const found: string[][] = [];
  if (!isPlainObject(raw)) return found;
  for (const key of Object.keys(raw)) {
    if (!KNOWN_KEYS['']?.has(key)) found.push([key]);
  }
  for (const section of ['storage', 'audit'] as const) {
    const value = raw[section];
    const known = KNOWN_KEYS[section];
    if (!isPlainObject(value) || !known) continue;
    for (const key of Object.keys(value)) {
      if (!known.has(key)) found.push([section, key]);
    }
  }
  return found;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** The text a human reads for a field path: `scope.permissions[1]`. */
export function formatFieldPath(path: ReadonlyArray<PropertyKey>): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? String(part) : `.${String(part)}`;
  }
  return text;
}

/** The purpose of a key: `purpose`, or the older `description` field when no purpose is written. */
export function entryPurpose(entry: KeyEntry): string | undefined {
  const purpose = entry.purpose?.trim() || entry.description?.trim();
  return purpose ? purpose : undefined;
}

/** The store reference of an entry: `vault:<path>` for the `vault_path` form, `<store>:<path>` otherwise. */
export function entryStorageRef(entry: KeyEntry): { store: string; path: string } | undefined {
  const storage = entry.storage;
  if (!storage) return undefined;
  if (storage.path !== undefined) return { store: storage.store ?? 'default', path: storage.path };
  if (storage.vault_path !== undefined) return { store: 'vault', path: storage.vault_path };
  return undefined;
}
