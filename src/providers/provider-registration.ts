// What a provider's folder declares in its `index.ts` (name, options schema, capabilities, rate limit, kinds, lazy
// loader), and the names the table must cover: providers/provider-table.ts is a Record over ProviderName, so a
// provider named here without a registration there, or the other way round, fails to compile.
import type { z } from 'zod';
import type { Provider, ProviderCapabilities, RateLimit } from './provider.js';
import type { ProviderContext } from './provider-context.js';
import type { RepositoryHost } from './repository-host.js';

/** Every provider keyledger has an adapter for: the registry's `scope.provider` values. */
export type ProviderName =
  | 'aws-iam'
  | 'azure'
  | 'cloudflare'
  | 'datadog'
  | 'gcp'
  | 'github'
  | 'gitlab'
  | 'internal'
  | 'openai'
  | 'sendgrid'
  | 'slack'
  | 'stripe'
  | 'twilio';

/** What the core knows of a provider without loading its adapter, and what an adapter's base answers from. */
export interface ProviderDeclaration {
  /** The registry's `scope.provider` value. */
  name: string;
  /** What the provider's API allows. */
  capabilities: ProviderCapabilities;
  /** The documented request budget (the `rateLimit` option replaces it). */
  rateLimit: RateLimit;
  /** Which of `capabilities.kinds` a key of this account is, when the account tells (Provider.kindOf). */
  kindOf?: (account: string | undefined) => string | undefined;
}

export interface ProviderRegistration<Schema extends z.ZodType = z.ZodType> extends ProviderDeclaration {
  /** Validates and defaults the adapter's options (base URL, credentials, account...). */
  optionsSchema: Schema;
  /** True when the adapter works with no options at all (internal): the app builds it unconfigured. */
  needsNoOptions?: boolean;
  /**
   * Loads the adapter's module, and with it the provider's SDK, on first use: SDKs take from 0.1 s to 2 s to load
   * (Datadog's ~2 s, Cloudflare's ~0.7 s), and a command that touches one provider should not pay for twelve.
   */
  load(): Promise<(options: z.output<Schema>, context: ProviderContext) => Provider>;
  /**
   * When the provider hosts git repositories (providers/repository-host.ts): loads what lists them and gives the
   * credentials to clone them, from the same options as the adapter.
   */
  repositories?: {
    load(): Promise<(options: z.output<Schema>, context: ProviderContext) => RepositoryHost>;
  };
}

/** Declares a provider: keeps the option types of its schema while the table holds every registration alike. */
export function defineProvider<Name extends ProviderName, Schema extends z.ZodType>(
  registration: ProviderRegistration<Schema> & { name: Name },
): ProviderRegistration & { name: Name } {
  return registration as unknown as ProviderRegistration & { name: Name };
}
