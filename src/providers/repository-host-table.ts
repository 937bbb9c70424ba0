// Builds the repository host a provider's folder declares (`repositories` in its registration, e.g.
// providers/github/index.ts), from the same options as the provider's adapter (providers.json), so a caller names
// a provider, never imports its folder.
import { ConfigError } from '../errors/keyledger-error.js';
import { formatFieldPath } from '../registry/key-entry-schema.js';
import type { ProviderContext } from './provider-context.js';
import { providerNames, providerRegistration } from './provider-table.js';
import type { RepositoryHost } from './repository-host.js';

/** The providers that host repositories, sorted. */
export function repositoryHostNames(): string[] {
  return providerNames().filter((name) => providerRegistration(name)?.repositories);
}

/** The repository host of provider `name`; a ConfigError for a provider that hosts none or for invalid options. */
export async function createRepositoryHost(
  name: string,
  options: unknown,
  context: ProviderContext,
): Promise<RepositoryHost> {
  const registration = providerRegistration(name);
  if (!registration?.repositories) {
    throw new ConfigError(
      `"${name}" hosts no repositories to list; repository hosts: ${repositoryHostNames().join(', ')}`,
      { code: 'E_PROVIDER_UNKNOWN' },
    );
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
  const factory = await registration.repositories.load();
  return factory(parsed.data as never, context);
}
