// `keyledger.config.yaml`: where the entries are, the policy `keyledger validate` enforces, the people directory,
// the secret stores to check storage paths against, and the git author for registry commits. Every field has a
// default, so a registry without a config file still validates with the default policy (docs/registry.md).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import jsYaml from 'js-yaml';
import { z } from 'zod';
import { ConfigError } from '../errors/keyledger-error.js';
import { formatFieldPath } from './key-entry-schema.js';
import { YamlLocator } from './yaml-position.js';

export const CONFIG_FILE_NAME = 'keyledger.config.yaml';

const severitySetting = z.enum(['error', 'warning', 'off']);
export type SeveritySetting = z.infer<typeof severitySetting>;

/** Permission patterns that are forbidden without a justification: wildcards, admin, cluster-wide. RE2 syntax. */
export const DEFAULT_FORBIDDEN_PERMISSIONS = [
  '^\\*$',
  '(?i)^(\\*|[a-z0-9_.-]+):\\*$',
  '(?i)(^|[^a-z])admin([^a-z]|$)',
  '(?i)cluster[-_ ]?(wide|admin)',
  '(?i)^(full|all)[-_ ]?access$',
  '(?i)^root$',
  // The providers' own names for "everything": AWS's managed policy, GCP's basic roles, GitHub's repository
  // administration, Microsoft Graph's tenant-wide write scopes.
  '(?i)(^|/)AdministratorAccess$',
  '(?i)^roles/(owner|editor)$',
  '(?i)^administration:write$',
  '(?i)\\.ReadWrite\\.All$',
  // Account-wide control under names without "admin": Twilio's Main API key type (the whole account, other keys
  // included), an OpenAI key's "All" permissions, Cloudflare's "Account Settings:Edit" permission group, and scopes
  // that mint keys or manage users (Datadog's `api_keys_write` and `user_access_manage`, SendGrid's
  // `api_keys.create`): whoever holds such a key can give themselves everything else.
  '(?i)^main$',
  '(?i)^all$',
  '(?i)^account settings:edit$',
  '(?i)^api_keys[._](write|create)$',
  '(?i)^user_access_manage$',
  // A read-write repository deploy key (the GitHub adapter reports `read_only: false` as the bare permission
  // `write`, src/providers/github/github-provider.ts): GitHub's "Managing deploy keys" documents that a deploy key
  // with write access can do what an organisation member with admin access can on that repository, and that whoever
  // holds the private key keeps pushing after leaving the organisation — admin-level for a review.
  '(?i)^write$',
];

export const policySchema = z.strictObject({
  max_lifetime_days: z.number().int().positive().default(365),
  max_lifetime_days_by_provider: z.record(z.string(), z.number().int().positive()).default({}),
  forbidden_permissions: z.array(z.string().min(1)).default(DEFAULT_FORBIDDEN_PERMISSIONS),
  allowed_teams: z.array(z.string().min(1)).optional(),
  key_id_pattern: z.string().min(1).optional(),
  /** A CSV (email,name,team,status,left_at) or YAML list of people; relative to the registry root. */
  people_directory: z.string().min(1).optional(),
  /** Days before expiry at which an active key is reported as expiring soon. */
  expiry_warning_days: z.number().int().nonnegative().default(30),
  /** Per-rule severity overrides: `{ shared-key: error, rotation-overdue: off }`. */
  rules: z.record(z.string(), severitySetting).default({}),
});

export const registryConfigSchema = z.strictObject({
  registry: z
    .strictObject({
      /** Globs of entry files, relative to the registry root. */
      keys: z.union([z.string(), z.array(z.string()).min(1)]).default('keys/**/*.yaml'),
    })
    .prefault({}),
  policy: policySchema.prefault({}),
  /**
   * Secret stores that `storage` entries point into, by name (`vault`, `default`...). Each is `{ kind, ...options }`
   * and is built by the secret-store table; validate checks that each entry's path exists in its store.
   */
  stores: z.record(z.string(), z.looseObject({ kind: z.string().min(1) })).default({}),
  /**
   * Provider adapters by the name entries use in `scope.provider` (`internal`, `aws-iam`...): each is the adapter's
   * options (base URL, credentials from the environment, account). Built by the provider table.
   */
  providers: z.record(z.string(), z.looseObject({})).default({}),
  /**
   * Where rotation tickets go when neither `--tickets` nor KEYLEDGER_TICKETS says: `markdown:<dir>` (relative to
   * the registry root), `github:<owner/repo>`, `jira:<PROJECT>` (src/tickets/ticket-sink-table.ts).
   */
  tickets: z.string().min(1).optional(),
  /**
   * Who a leaver's keys are reassigned to (src/offboarding/shared-owner.ts): the team's entry in `team_owners`,
   * else `shared_owner` with `{team}` and `{domain}` (the leaver's email domain) filled in.
   */
  offboarding: z
    .strictObject({
      shared_owner: z.string().min(1).default('{team}-shared@{domain}'),
      team_owners: z.record(z.string(), z.string().min(1)).default({}),
    })
    .prefault({}),
  git: z
    .strictObject({
      author_name: z.string().min(1).default('keyledger'),
      author_email: z.string().min(1).default('keyledger@localhost'),
      /**
       * The shared remote writes are pushed to and pulled from (a URL or a path; KEYLEDGER_REGISTRY_REMOTE wins):
       * src/registry/registry-remote.ts. Never credentials: the token comes from the environment.
       */
      remote: z.string().min(1).optional(),
      /** The remote's branch (default main; KEYLEDGER_REGISTRY_BRANCH wins). */
      branch: z.string().min(1).optional(),
    })
    .prefault({}),
});

export type RegistryConfig = z.output<typeof registryConfigSchema>;
export type PolicyConfig = RegistryConfig['policy'];

export interface LoadedRegistryConfig {
  config: RegistryConfig;
  /** The registry root: the directory holding the config file, or the directory given. */
  root: string;
  /** The config file read, or undefined when the defaults were used. */
  file?: string;
}

export function defaultRegistryConfig(): RegistryConfig {
  return registryConfigSchema.parse({});
}

/**
 * Reads `keyledger.config.yaml` from `root` (or an explicit file). A missing file means the defaults; a malformed
 * one is a ConfigError naming the file, line and field.
 */
export async function loadRegistryConfig(root: string, explicitFile?: string): Promise<LoadedRegistryConfig> {
  const file = explicitFile ? resolve(explicitFile) : join(resolve(root), CONFIG_FILE_NAME);
  const registryRoot = explicitFile ? dirname(file) : resolve(root);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !explicitFile) {
      return { config: defaultRegistryConfig(), root: registryRoot };
    }
    throw new ConfigError(`cannot read ${file}: ${(error as Error).message}`, { position: { file } });
  }
  return { config: parseRegistryConfig(text, file), root: registryRoot, file };
}

export function parseRegistryConfig(text: string, file: string): RegistryConfig {
  const raw = readConfigYaml(text, file) ?? {};
  const parsed = registryConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
    const { line, column } = new YamlLocator(text).locate(path);
    const field = formatFieldPath(path);
    throw new ConfigError(`${file}:${line}:${column}: ${field ? `${field}: ` : ''}${issue.message}`, {
      position: { file, line, column, field },
    });
  }
  return parsed.data;
}

/**
 * The config's YAML as plain data. js-yaml (YAML 1.2 core schema, as `yaml` reads it by default) is already loaded
 * for the entries; `yaml`, whose messages and positions the errors quote, is loaded only for a file js-yaml rejects —
 * loading it cost every validate 60 ms of start-up.
 */
function readConfigYaml(text: string, file: string): unknown {
  try {
    return jsYaml.load(text, { filename: file, schema: jsYaml.CORE_SCHEMA });
  } catch {
    const { parseDocument } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    const document = parseDocument(text, { prettyErrors: false });
    const syntaxError = document.errors[0];
    if (syntaxError) {
      const [line, column] = syntaxError.linePos?.[0] ? [syntaxError.linePos[0].line, syntaxError.linePos[0].col] : [];
      throw new ConfigError(`${file}: invalid YAML: ${syntaxError.message.split('\n')[0]}`, {
        position: { file, ...(line !== undefined ? { line, column } : {}) },
      });
    }
    return document.toJS();
  }
}
