// Every Provider adapter, by name: each provider's folder declares its registration in its own `index.ts` and the
// table below assembles them, as a Record over ProviderName so that a missing or extra entry fails to compile. The
// core creates adapters through `createProvider(name, options, context)` and never imports an adapter's folder. To
// add a provider: its folder (see README.md), its name in provider-registration.ts, and one entry below.
import { ConfigError } from '../errors/keyledger-error.js';
import { formatFieldPath } from '../registry/key-entry-schema.js';
import { awsIamProviderRegistration } from './aws-iam/index.js';
import { azureProviderRegistration } from './azure/index.js';
import { cloudflareProviderRegistration } from './cloudflare/index.js';
import { datadogProviderRegistration } from './datadog/index.js';
import { gcpProviderRegistration } from './gcp/index.js';
import { githubProviderRegistration } from './github/index.js';
import { gitlabProviderRegistration } from './gitlab/index.js';
import { effectiveRateLimit, type HttpProviderOptions } from './http/provider-http-options.js';
import { internalProviderRegistration } from './internal/index.js';
import { openaiProviderRegistration } from './openai/index.js';
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
import type { ProviderName, ProviderRegistration } from './provider-registration.js';
import { sendgridProviderRegistration } from './sendgrid/index.js';
import { slackProviderRegistration } from './slack/index.js';
import { stripeProviderRegistration } from './stripe/index.js';
import { twilioProviderRegistration } from './twilio/index.js';

export type { ProviderName, ProviderRegistration } from './provider-registration.js';

export const providerTable: Readonly<{ [Name in ProviderName]: ProviderRegistration & { name: Name } }> = {
  'aws-iam': awsIamProviderRegistration,
  azure: azureProviderRegistration,
  cloudflare: cloudflareProviderRegistration,
  datadog: datadogProviderRegistration,
  gcp: gcpProviderRegistration,
  github: githubProviderRegistration,
  gitlab: gitlabProviderRegistration,
  internal: internalProviderRegistration,
  openai: openaiProviderRegistration,
  sendgrid: sendgridProviderRegistration,
  slack: slackProviderRegistration,
  stripe: stripeProviderRegistration,
  twilio: twilioProviderRegistration,
};

/** The registration of `name`, or undefined when no provider has that name. */
export function providerRegistration(name: string): ProviderRegistration | undefined {
  return Object.hasOwn(providerTable, name) ? providerTable[name as ProviderName] : undefined;
}

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

  /** Writes what the adapter buffered, when it was ever built. */
  async flush(): Promise<void> {
    if (!this.#adapter) return;
    await (await this.#adapter).flush?.();
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

export function providerNames(): ProviderName[] {
  return (Object.keys(providerTable) as ProviderName[]).sort();
}

/**
 * Builds the adapter registered as `name` from raw options (a config file's section, CLI flags). Invalid options
 * raise a ConfigError naming the field; option values are never echoed, since they hold credentials.
 */
export function createProvider(name: string, options: unknown, context: ProviderContext): Provider {
  const registration = providerRegistration(name);
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
