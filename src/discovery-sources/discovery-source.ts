// The interface every discovery source implements, one folder each under src/discovery-sources/<name>/: a place
// where keys hide that is not a provider (CI/CD secrets, Kubernetes, Vault, credential reports, password-manager
// exports, `.env` files). A source reports what it finds there as observations; recording them and marking what is
// gone is src/audit/key-observations.ts. A source that reads key material (a Kubernetes Secret, an export) hands
// each value to `matchSecret` and keeps only the answer: no observation carries a value.
import { ConfigError, UsageError } from '../errors/keyledger-error.js';

/** One place a secret sits, as a source saw it. Never holds the secret. */
export interface SecretObservation {
  /** Where, in the source's own terms: `repo acme/api`, `env acme/api production`, `default/payments`, a file#item. */
  location: string;
  /** The name the place gives the secret: a secret or variable name, a field label, a data key. */
  name: string;
  /** ISO-8601 UTC, when the source says. */
  createdAt?: string;
  updatedAt?: string;
  lastUsedAt?: string;
  /** The registry entry whose fingerprint the value matched (sources that read values; see `matchSecret`). */
  keyId?: string;
  /** The path the secret has in its store, for sources that are secret stores (matched to entries' `storage`). */
  storePath?: string;
  /** The provider and its key id, when the source names them (a credential report names a user's key slot). */
  provider?: string;
  providerKeyId?: string;
  /** Who the source says holds it: an IAM user, an item's owner. */
  principal?: string;
  /** Secret-free facts worth showing: a variable's `masked` flag, an ExternalSecret's readiness. */
  detail?: Readonly<Record<string, string | number | boolean | null>>;
}

export interface DiscoverySourceContext {
  /** The `--source-option key=value` pairs the user gave, checked against the source's `options`. */
  options: Readonly<Record<string, string>>;
  /** For tokens named by an option (`token-env`): tokens never travel on the command line. */
  env: NodeJS.ProcessEnv;
  /**
   * The key_id of the registry entry whose keyed fingerprint matches `material`, or undefined. The caller keeps
   * nothing of the value; the source must not keep it either.
   */
  matchSecret(material: string): string | undefined;
}

export interface DiscoverySourceOption {
  description: string;
  required?: boolean;
}

export interface DiscoverySource {
  /** The name `--source` takes and observations are recorded under. */
  readonly name: string;
  /** One line for `keyledger discover --help` and docs/cli.md. */
  readonly description: string;
  readonly options: Readonly<Record<string, DiscoverySourceOption>>;
  /**
   * Every secret the source holds, as one complete listing: the recorder marks what an earlier complete listing of
   * the same source and options showed and this one does not as gone. Throws (and the recorder marks nothing) when
   * the listing cannot be completed.
   */
  observe(context: DiscoverySourceContext): AsyncIterable<SecretObservation>;
}

/** The value of a required option; the table has checked it is present. */
export function requiredOption(context: DiscoverySourceContext, name: string): string {
  const value = context.options[name];
  if (value === undefined || value === '') throw new UsageError(`--source-option ${name}=... is required`);
  return value;
}

/** A bearer token from the environment variable an option names (or its default), never from argv. */
export function tokenFromEnv(context: DiscoverySourceContext, fallbackVariable: string): string {
  const variable = context.options['token-env'] ?? fallbackVariable;
  const token = context.env[variable];
  if (!token)
    throw new ConfigError(`no token: set ${variable} (or name another variable with --source-option token-env=NAME)`);
  return token;
}

/** Names that usually hold key material, for sources that list every variable of a file or item. */
export const SECRET_LIKE_NAME = /(key|token|secret|password|passwd|credential|auth|private|api)/i;
