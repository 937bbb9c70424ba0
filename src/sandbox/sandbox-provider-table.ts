// Every provider sandbox, registered by name (the adapter's name): how to build it for an organisation, the
// request budget it enforces by default, and the adapter options that point an adapter at it. To add a provider's
// sandbox: add its folder under sandbox/providers/<name>/ (see README.md) and one entry below.
import type { RateLimit } from '../providers/provider.js';
import type { Clock } from '../runtime/clock.js';
import type { Organisation } from './org/org-model.js';
import { AwsIamSandbox } from './providers/aws-iam/aws-iam-sandbox.js';
import { AzureSandbox } from './providers/azure/azure-sandbox.js';
import { CloudflareSandbox } from './providers/cloudflare/cloudflare-sandbox.js';
import { DatadogSandbox } from './providers/datadog/datadog-sandbox.js';
import { GcpSandbox } from './providers/gcp/gcp-sandbox.js';
import { GithubSandbox } from './providers/github/github-sandbox.js';
import { GitlabSandbox } from './providers/gitlab/gitlab-sandbox.js';
import { OpenaiSandbox } from './providers/openai/openai-sandbox.js';
import { SendgridSandbox } from './providers/sendgrid/sendgrid-sandbox.js';
import { SlackSandbox } from './providers/slack/slack-sandbox.js';
import { StripeSandbox } from './providers/stripe/stripe-sandbox.js';
import { TwilioSandbox } from './providers/twilio/twilio-sandbox.js';
import type { SandboxProvider } from './sandbox-server.js';

export interface SandboxBuildContext {
  clock: Clock;
  org?: Organisation;
  /** AWS: how long a new key fails authentication. */
  consistencyDelayMs: number;
  /** Constructor settings a test asks for, laid over the table's (projects, repositories, an org name). */
  settings?: Record<string, unknown>;
}

export interface BuiltSandbox {
  provider: SandboxProvider;
  /** Options for `createProvider(name, options)` that point the adapter at this sandbox, credentials included. */
  adapterOptions(url: string): Record<string, unknown>;
}

export interface SandboxProviderRegistration {
  name: string;
  /** The budget the sandbox enforces unless told otherwise (the provider's documented or observed limit). */
  rateLimit: RateLimit;
  build(context: SandboxBuildContext): BuiltSandbox;
}

export const sandboxProviderTable: readonly SandboxProviderRegistration[] = [
  {
    name: 'aws-iam',
    rateLimit: { requests: 20, perSeconds: 1 },
    build: ({ clock, consistencyDelayMs }) => {
      const provider = new AwsIamSandbox({ clock, consistencyDelayMs });
      return {
        provider,
        adapterOptions: (url) => ({
          baseUrl: url,
          credentials: { accessKeyId: provider.admin.accessKeyId, secretAccessKey: provider.admin.secretAccessKey },
        }),
      };
    },
  },
  {
    name: 'github',
    rateLimit: { requests: 5000, perSeconds: 3600 },
    build: ({ clock, org, settings }) => {
      const repositories = org ? Object.values(org.repositories).flat() : ['api', 'web', 'infra'];
      const provider = new GithubSandbox({ clock, org: org?.name ?? 'acme', repositories, ...settings });
      return {
        provider,
        adapterOptions: (url) => ({
          baseUrl: url,
          org: provider.org,
          token: provider.installationToken,
          repositories: repositories.map((repo) => `${provider.org}/${repo}`),
        }),
      };
    },
  },
  {
    name: 'gitlab',
    rateLimit: { requests: 2000, perSeconds: 60 },
    build: ({ clock, settings }) => {
      const provider = new GitlabSandbox({ clock, ...settings });
      return { provider, adapterOptions: (url) => ({ baseUrl: url, token: provider.adminToken }) };
    },
  },
  {
    name: 'datadog',
    rateLimit: { requests: 1000, perSeconds: 60 },
    build: ({ clock, org, settings }) => {
      const provider = new DatadogSandbox({ clock, org: org ? `${org.name}-datadog` : 'acme-datadog', ...settings });
      const account = provider.org;
      return {
        provider,
        adapterOptions: (url) => ({
          baseUrl: url,
          apiKey: provider.adminApiKey,
          applicationKey: provider.adminApplicationKey,
          org: account,
        }),
      };
    },
  },
  {
    name: 'twilio',
    rateLimit: { requests: 100, perSeconds: 1 },
    build: ({ clock }) => {
      const provider = new TwilioSandbox({ clock });
      return {
        provider,
        adapterOptions: (url) => ({ baseUrl: url, accountSid: provider.accountSid, authToken: provider.authToken }),
      };
    },
  },
  {
    name: 'sendgrid',
    rateLimit: { requests: 600, perSeconds: 60 },
    build: ({ clock }) => {
      const provider = new SendgridSandbox({ clock });
      return { provider, adapterOptions: (url) => ({ baseUrl: url, apiKey: provider.adminKey }) };
    },
  },
  {
    name: 'cloudflare',
    rateLimit: { requests: 1200, perSeconds: 300 },
    build: ({ clock }) => {
      const provider = new CloudflareSandbox({ clock });
      return { provider, adapterOptions: (url) => ({ baseUrl: `${url}/client/v4`, token: provider.adminToken }) };
    },
  },
  {
    name: 'openai',
    rateLimit: { requests: 500, perSeconds: 60 },
    build: ({ clock, settings }) => {
      const provider = new OpenaiSandbox({ clock, ...settings });
      return { provider, adapterOptions: (url) => ({ baseUrl: url, adminKey: provider.adminKey }) };
    },
  },
  {
    name: 'gcp',
    rateLimit: { requests: 600, perSeconds: 60 },
    build: ({ clock, org, settings }) => {
      const projectId = (settings?.projectId as string | undefined) ?? `${org?.name ?? 'acme'}-prod`;
      const provider = new GcpSandbox({ clock, projectId, ...settings });
      return {
        provider,
        adapterOptions: (url) => ({
          baseUrl: url,
          tokenUrl: `${url}/token`,
          policyAnalyzerUrl: url,
          resourceManagerUrl: url,
          credentials: JSON.stringify(provider.adminKeyFile(`${url}/token`)),
          projectId,
        }),
      };
    },
  },
  {
    name: 'azure',
    rateLimit: { requests: 100, perSeconds: 10 },
    build: ({ clock }) => {
      const provider = new AzureSandbox({ clock });
      return {
        provider,
        adapterOptions: (url) => ({
          baseUrl: url,
          loginUrl: url,
          tenantId: provider.tenantId,
          clientId: provider.adminClientId,
          clientSecret: provider.adminClientSecret,
        }),
      };
    },
  },
  {
    name: 'stripe',
    rateLimit: { requests: 100, perSeconds: 1 },
    build: ({ clock }) => {
      const provider = new StripeSandbox({ clock });
      return { provider, adapterOptions: (url) => ({ baseUrl: url }) };
    },
  },
  {
    name: 'slack',
    rateLimit: { requests: 50, perSeconds: 60 },
    build: () => {
      const provider = new SlackSandbox();
      return { provider, adapterOptions: (url) => ({ baseUrl: `${url}/api` }) };
    },
  },
];
