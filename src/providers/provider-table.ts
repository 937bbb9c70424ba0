// Every Provider adapter, registered by name with the zod schema of its options. The core creates adapters
// through `createProvider(name, options, context)` and never imports an adapter's folder. To add a provider:
// add its folder (see README.md) and one entry below.
import type { z } from 'zod';
import { ConfigError } from '../errors/keyledger-error.js';
import { formatFieldPath } from '../registry/key-entry-schema.js';
import { AwsIamProvider } from './aws-iam/aws-iam-provider.js';
import { awsIamOptionsSchema } from './aws-iam/aws-iam-schemas.js';
import { AzureProvider } from './azure/azure-provider.js';
import { azureOptionsSchema } from './azure/azure-schemas.js';
import { CloudflareProvider } from './cloudflare/cloudflare-provider.js';
import { cloudflareOptionsSchema } from './cloudflare/cloudflare-schemas.js';
import { DatadogProvider } from './datadog/datadog-provider.js';
import { datadogOptionsSchema } from './datadog/datadog-schemas.js';
import { GcpProvider } from './gcp/gcp-provider.js';
import { gcpOptionsSchema } from './gcp/gcp-schemas.js';
import { GithubProvider } from './github/github-provider.js';
import { githubOptionsSchema } from './github/github-schemas.js';
import { GitlabProvider } from './gitlab/gitlab-provider.js';
import { gitlabOptionsSchema } from './gitlab/gitlab-schemas.js';
import { OpenaiProvider } from './openai/openai-provider.js';
import { openaiOptionsSchema } from './openai/openai-schemas.js';
import type { Provider } from './provider.js';
import type { ProviderContext } from './provider-context.js';
import { SendgridProvider } from './sendgrid/sendgrid-provider.js';
import { sendgridOptionsSchema } from './sendgrid/sendgrid-schemas.js';
import { SlackProvider } from './slack/slack-provider.js';
import { slackOptionsSchema } from './slack/slack-schemas.js';
import { StripeProvider } from './stripe/stripe-provider.js';
import { stripeOptionsSchema } from './stripe/stripe-schemas.js';
import { TwilioProvider } from './twilio/twilio-provider.js';
import { twilioOptionsSchema } from './twilio/twilio-schemas.js';

export interface ProviderRegistration<Schema extends z.ZodType = z.ZodType> {
  /** The registry's `scope.provider` value. */
  name: string;
  /** Validates and defaults the adapter's options (base URL, credentials, account...). */
  optionsSchema: Schema;
  create(options: z.output<Schema>, context: ProviderContext): Provider;
}

function register<Schema extends z.ZodType>(registration: ProviderRegistration<Schema>): ProviderRegistration {
  return registration as unknown as ProviderRegistration;
}

export const providerTable: ReadonlyMap<string, ProviderRegistration> = new Map(
  [
    register({
      name: 'aws-iam',
      optionsSchema: awsIamOptionsSchema,
      create: (options, context) => new AwsIamProvider(options, context),
    }),
    register({
      name: 'github',
      optionsSchema: githubOptionsSchema,
      create: (options, context) => new GithubProvider(options, context),
    }),
    register({
      name: 'gitlab',
      optionsSchema: gitlabOptionsSchema,
      create: (options, context) => new GitlabProvider(options, context),
    }),
    register({ name: 'datadog', optionsSchema: datadogOptionsSchema, create: (o, c) => new DatadogProvider(o, c) }),
    register({ name: 'twilio', optionsSchema: twilioOptionsSchema, create: (o, c) => new TwilioProvider(o, c) }),
    register({ name: 'sendgrid', optionsSchema: sendgridOptionsSchema, create: (o, c) => new SendgridProvider(o, c) }),
    register({
      name: 'cloudflare',
      optionsSchema: cloudflareOptionsSchema,
      create: (o, c) => new CloudflareProvider(o, c),
    }),
    register({ name: 'openai', optionsSchema: openaiOptionsSchema, create: (o, c) => new OpenaiProvider(o, c) }),
    register({ name: 'gcp', optionsSchema: gcpOptionsSchema, create: (o, c) => new GcpProvider(o, c) }),
    register({ name: 'azure', optionsSchema: azureOptionsSchema, create: (o, c) => new AzureProvider(o, c) }),
    register({ name: 'stripe', optionsSchema: stripeOptionsSchema, create: (o, c) => new StripeProvider(o, c) }),
    register({ name: 'slack', optionsSchema: slackOptionsSchema, create: (o, c) => new SlackProvider(o, c) }),
  ].map((registration) => [registration.name, registration]),
);

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
  return registration.create(parsed.data, context);
}
