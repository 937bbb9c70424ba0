// Every Provider adapter, registered by name with the zod schema of its options. The core creates adapters
// through `createProvider(name, options, context)` and never imports an adapter's folder. To add a provider:
// add its folder (see README.md) and one entry below.
import type { z } from 'zod';
import { ConfigError } from '../errors/keyledger-error.js';
import { formatFieldPath } from '../registry/key-entry-schema.js';
import { AWS_IAM_CAPABILITIES, AWS_IAM_RATE_LIMIT } from './aws-iam/aws-iam-constants.js';
import { awsIamOptionsSchema } from './aws-iam/aws-iam-schemas.js';
import { AZURE_CAPABILITIES, AZURE_RATE_LIMIT } from './azure/azure-constants.js';
import { azureOptionsSchema } from './azure/azure-schemas.js';
import { CLOUDFLARE_CAPABILITIES, CLOUDFLARE_RATE_LIMIT } from './cloudflare/cloudflare-constants.js';
import { cloudflareOptionsSchema } from './cloudflare/cloudflare-schemas.js';
import { DATADOG_CAPABILITIES, DATADOG_RATE_LIMIT } from './datadog/datadog-constants.js';
import { datadogOptionsSchema } from './datadog/datadog-schemas.js';
import { GCP_CAPABILITIES, GCP_RATE_LIMIT } from './gcp/gcp-constants.js';
import { gcpOptionsSchema } from './gcp/gcp-schemas.js';
import { GITHUB_CAPABILITIES, GITHUB_RATE_LIMIT, githubKeyKind } from './github/github-constants.js';
import { githubOptionsSchema } from './github/github-schemas.js';
import { GITLAB_CAPABILITIES, GITLAB_RATE_LIMIT } from './gitlab/gitlab-constants.js';
import { gitlabOptionsSchema } from './gitlab/gitlab-schemas.js';
import { effectiveRateLimit, type HttpProviderOptions } from './http/provider-http-options.js';
import { OPENAI_CAPABILITIES, OPENAI_RATE_LIMIT } from './openai/openai-constants.js';
import { openaiOptionsSchema } from './openai/openai-schemas.js';
import type {
  CreatedKey,
  CreateKeyRequest,
  LastUsed,
  Provider,
  ProviderCapabilities,
  ProviderKey,
  ProviderKeyRef,
  RateLimit,
  VerifyResult,
} from './provider.js';
import type { ProviderContext } from './provider-context.js';
import { SENDGRID_CAPABILITIES, SENDGRID_RATE_LIMIT } from './sendgrid/sendgrid-constants.js';
import { sendgridOptionsSchema } from './sendgrid/sendgrid-schemas.js';
import { SLACK_CAPABILITIES, SLACK_RATE_LIMIT } from './slack/slack-constants.js';
import { slackOptionsSchema } from './slack/slack-schemas.js';
import { STRIPE_CAPABILITIES, STRIPE_RATE_LIMIT } from './stripe/stripe-constants.js';
import { stripeOptionsSchema } from './stripe/stripe-schemas.js';
import { TWILIO_CAPABILITIES, TWILIO_RATE_LIMIT } from './twilio/twilio-constants.js';
import { twilioOptionsSchema } from './twilio/twilio-schemas.js';

/** Builds an adapter from its parsed options. */
export type ProviderFactory = (options: never, context: ProviderContext) => Provider;

export interface ProviderRegistration<Schema extends z.ZodType = z.ZodType> {
  /** The registry's `scope.provider` value. */
  name: string;
  /** Validates and defaults the adapter's options (base URL, credentials, account...). */
  optionsSchema: Schema;
  /** What the adapter declares, known without loading it. */
  capabilities: ProviderCapabilities;
  /** The documented request budget (the `rateLimit` option replaces it). */
  rateLimit: RateLimit;
  kindOf?: (account: string | undefined) => string | undefined;
  /**
   * Loads the adapter's module, and with it the provider's SDK, on first use: SDKs take from 0.1 s to 2 s to load
   * (Datadog's ~2 s, Cloudflare's ~0.7 s), and a command that touches one provider should not pay for twelve.
   */
  load(): Promise<(options: z.output<Schema>, context: ProviderContext) => Provider>;
}

function register<Schema extends z.ZodType>(registration: ProviderRegistration<Schema>): ProviderRegistration {
  return registration as unknown as ProviderRegistration;
}

export const providerTable: ReadonlyMap<string, ProviderRegistration> = new Map(
  [
    register({
      name: 'aws-iam',
      optionsSchema: awsIamOptionsSchema,
      capabilities: AWS_IAM_CAPABILITIES,
      rateLimit: AWS_IAM_RATE_LIMIT,
      load: async () => {
        const { AwsIamProvider } = await import('./aws-iam/aws-iam-provider.js');
        return (options, context) => new AwsIamProvider(options, context);
      },
    }),
    register({
      name: 'github',
      optionsSchema: githubOptionsSchema,
      capabilities: GITHUB_CAPABILITIES,
      rateLimit: GITHUB_RATE_LIMIT,
      kindOf: githubKeyKind,
      load: async () => {
        const { GithubProvider } = await import('./github/github-provider.js');
        return (options, context) => new GithubProvider(options, context);
      },
    }),
    register({
      name: 'gitlab',
      optionsSchema: gitlabOptionsSchema,
      capabilities: GITLAB_CAPABILITIES,
      rateLimit: GITLAB_RATE_LIMIT,
      load: async () => {
        const { GitlabProvider } = await import('./gitlab/gitlab-provider.js');
        return (options, context) => new GitlabProvider(options, context);
      },
    }),
    register({
      name: 'datadog',
      optionsSchema: datadogOptionsSchema,
      capabilities: DATADOG_CAPABILITIES,
      rateLimit: DATADOG_RATE_LIMIT,
      load: async () => {
        const { DatadogProvider } = await import('./datadog/datadog-provider.js');
        return (options, context) => new DatadogProvider(options, context);
      },
    }),
    register({
      name: 'twilio',
      optionsSchema: twilioOptionsSchema,
      capabilities: TWILIO_CAPABILITIES,
      rateLimit: TWILIO_RATE_LIMIT,
      load: async () => {
        const { TwilioProvider } = await import('./twilio/twilio-provider.js');
        return (options, context) => new TwilioProvider(options, context);
      },
    }),
    register({
      name: 'sendgrid',
      optionsSchema: sendgridOptionsSchema,
      capabilities: SENDGRID_CAPABILITIES,
      rateLimit: SENDGRID_RATE_LIMIT,
      load: async () => {
        const { SendgridProvider } = await import('./sendgrid/sendgrid-provider.js');
        return (options, context) => new SendgridProvider(options, context);
      },
    }),
    register({
      name: 'cloudflare',
      optionsSchema: cloudflareOptionsSchema,
      capabilities: CLOUDFLARE_CAPABILITIES,
      rateLimit: CLOUDFLARE_RATE_LIMIT,
      load: async () => {
        const { CloudflareProvider } = await import('./cloudflare/cloudflare-provider.js');
        return (options, context) => new CloudflareProvider(options, context);
      },
    }),
    register({
      name: 'openai',
      optionsSchema: openaiOptionsSchema,
      capabilities: OPENAI_CAPABILITIES,
      rateLimit: OPENAI_RATE_LIMIT,
      load: async () => {
        const { OpenaiProvider } = await import('./openai/openai-provider.js');
        return (options, context) => new OpenaiProvider(options, context);
      },
    }),
    register({
      name: 'gcp',
      optionsSchema: gcpOptionsSchema,
      capabilities: GCP_CAPABILITIES,
      rateLimit: GCP_RATE_LIMIT,
      load: async () => {
        const { GcpProvider } = await import('./gcp/gcp-provider.js');
        return (options, context) => new GcpProvider(options, context);
      },
    }),
    register({
      name: 'azure',
      optionsSchema: azureOptionsSchema,
      capabilities: AZURE_CAPABILITIES,
      rateLimit: AZURE_RATE_LIMIT,
      load: async () => {
        const { AzureProvider } = await import('./azure/azure-provider.js');
        return (options, context) => new AzureProvider(options, context);
      },
    }),
    register({
      name: 'stripe',
      optionsSchema: stripeOptionsSchema,
      capabilities: STRIPE_CAPABILITIES,
      rateLimit: STRIPE_RATE_LIMIT,
      load: async () => {
        const { StripeProvider } = await import('./stripe/stripe-provider.js');
        return (options, context) => new StripeProvider(options, context);
      },
    }),
    register({
      name: 'slack',
      optionsSchema: slackOptionsSchema,
      capabilities: SLACK_CAPABILITIES,
      rateLimit: SLACK_RATE_LIMIT,
      load: async () => {
        const { SlackProvider } = await import('./slack/slack-provider.js');
        return (options, context) => new SlackProvider(options, context);
      },
    }),
  ].map((registration) => [registration.name, registration]),
);

/**
 * The adapter as the core sees it: name, capabilities and rate limit answered from the registration, every call
 * forwarded to the adapter, which is built (its module and SDK loaded) on the first call.
 */
class LazyProvider implements Provider {
  readonly name: string;
  readonly #registration: ProviderRegistration;
  readonly #options: unknown;
  readonly #context: ProviderContext;
  #adapter: Promise<Provider> | undefined;

  constructor(registration: ProviderRegistration, options: unknown, context: ProviderContext) {
    this.name = registration.name;
    this.#registration = registration;
    this.#options = options;
    this.#context = context;
    if (registration.capabilities.nativeRotate) {
      this.rotate = async (ref) => {
        const adapter = await this.#load();
        if (!adapter.rotate) throw new Error(`${this.name}: the adapter declares nativeRotate but has no rotate()`);
        return adapter.rotate(ref);
      };
    }
  }

  rotate?: (ref: ProviderKeyRef) => Promise<CreatedKey>;

  capabilities(): ProviderCapabilities {
    return structuredClone(this.#registration.capabilities);
  }

  rateLimit(): RateLimit {
    const documented = this.#registration.rateLimit;
    const override = (this.#options as { rateLimit?: HttpProviderOptions['rateLimit'] }).rateLimit;
    return { ...(effectiveRateLimit(documented, override) ?? documented) };
  }

  kindOf(account: string | undefined): string | undefined {
    return this.#registration.kindOf?.(account);
  }

  async create(request: CreateKeyRequest): Promise<CreatedKey> {
    return (await this.#load()).create(request);
  }

  async *list(options?: { account?: string }): AsyncIterable<ProviderKey> {
    yield* (await this.#load()).list(options);
  }

  async verify(secret: Parameters<Provider['verify']>[0], ref?: ProviderKeyRef): Promise<VerifyResult> {
    return (await this.#load()).verify(secret, ref);
  }

  async revoke(ref: ProviderKeyRef, secret?: Parameters<Provider['revoke']>[1]): Promise<void> {
    return (await this.#load()).revoke(ref, secret);
  }

  async lastUsed(ref: ProviderKeyRef): Promise<LastUsed> {
    return (await this.#load()).lastUsed(ref);
  }

  /** Releases the adapter's connections, when it was ever built. */
  async close(): Promise<void> {
    if (!this.#adapter) return;
    const adapter = (await this.#adapter) as Provider & { close?: () => unknown };
    await adapter.close?.();
  }

  #load(): Promise<Provider> {
    this.#adapter ??= this.#registration.load().then((factory) => factory(this.#options as never, this.#context));
    // A failed load (a broken install) is not cached: the next call tries again and says the same.
    this.#adapter.catch(() => {
      this.#adapter = undefined;
    });
    return this.#adapter;
  }
}

export function providerNames(): string[] {
  return [...providerTable.keys()].sort();
}

/**
 * Builds the adapter registered as `name` from raw options (a config file's section, CLI flags). Invalid options
 * raise a ConfigError naming the field; option values are never echoed, since they hold credentials.
 */
export function createProvider(name: string, options: unknown, context: ProviderContext): Provider {
  const registration = providerTable.get(name);
  if (!registration) {
    throw new ConfigError(`unknown provider "${name}"; known providers: ${providerNames().join(', ')}`, {
      code: 'E_PROVIDER_UNKNOWN',
    });
  }
  const parsed = registration.optionsSchema.safeParse(options ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = formatFieldPath(issue.path);
    throw new ConfigError(`provider "${name}": option ${field || '(root)'}: ${issue.message}`, {
      code: 'E_PROVIDER_OPTIONS',
      position: { file: `provider:${name}`, field },
    });
  }
  return new LazyProvider(registration, parsed.data, context);
}
