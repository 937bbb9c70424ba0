// Every discovery source by name, loaded on demand (the AWS and GitHub SDKs are only loaded for their source). A
// missing entry fails to compile (Record over the names); to add a source: a folder `discovery-sources/<name>/`
// with `<name>-discovery-source.ts`, its test, an `index.ts`, and one line here.
import { UsageError } from '../errors/keyledger-error.js';
import type { DiscoverySource } from './discovery-source.js';

export const DISCOVERY_SOURCE_NAMES = [
  'github-actions',
  'gitlab-ci',
  'kubernetes',
  'vault-kv',
  'aws-credential-report',
  '1password-1pux',
  '1password-csv',
  'bitwarden-json',
  'dotenv',
] as const;
export type DiscoverySourceName = (typeof DISCOVERY_SOURCE_NAMES)[number];

export const discoverySourceTable: Readonly<Record<DiscoverySourceName, () => Promise<DiscoverySource>>> = {
  'github-actions': async () => (await import('./github-actions/index.js')).githubActionsDiscoverySource,
  'gitlab-ci': async () => (await import('./gitlab-ci/index.js')).gitlabCiDiscoverySource,
  kubernetes: async () => (await import('./kubernetes/index.js')).kubernetesDiscoverySource,
  'vault-kv': async () => (await import('./vault-kv/index.js')).vaultKvDiscoverySource,
  'aws-credential-report': async () =>
    (await import('./aws-credential-report/index.js')).awsCredentialReportDiscoverySource,
  '1password-1pux': async () => (await import('./1password/index.js')).onePassword1puxDiscoverySource,
  '1password-csv': async () => (await import('./1password/index.js')).onePasswordCsvDiscoverySource,
  'bitwarden-json': async () => (await import('./bitwarden/index.js')).bitwardenJsonDiscoverySource,
  dotenv: async () => (await import('./dotenv/index.js')).dotenvDiscoverySource,
};

export function isDiscoverySourceName(name: string): name is DiscoverySourceName {
  return (DISCOVERY_SOURCE_NAMES as readonly string[]).includes(name);
}

/** The source, with the user's options checked against what it declares: an unknown or missing option is refused. */
export async function loadDiscoverySource(
  name: string,
  options: Readonly<Record<string, string>>,
): Promise<DiscoverySource> {
  if (!isDiscoverySourceName(name))
    throw new UsageError(`unknown discovery source ${name}; sources: ${DISCOVERY_SOURCE_NAMES.join(', ')}`);
  const source = await discoverySourceTable[name]();
  const unknown = Object.keys(options).filter((option) => !Object.hasOwn(source.options, option));
  if (unknown.length > 0)
    throw new UsageError(
      `${name} takes no option ${unknown.join(', ')}; it takes: ${Object.keys(source.options).join(', ')}`,
    );
  const missing = Object.entries(source.options)
    .filter(([option, spec]) => spec.required && !options[option])
    .map(([option]) => option);
  if (missing.length > 0)
    throw new UsageError(`${name} needs --source-option ${missing.map((m) => `${m}=...`).join(' ')}`);
  return source;
}
