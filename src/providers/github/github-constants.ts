// Facts about GitHub's REST API the adapter relies on (github/rest-api-description; docs/providers.md).
import type { ProviderCapabilities, RateLimit } from '../provider.js';

export const GITHUB_PROVIDER_NAME = 'github';
export const GITHUB_API_URL = 'https://api.github.com';
export const GITHUB_API_VERSION = '2022-11-28';
export const GITHUB_PAGE_SIZE = 100;

export const GITHUB_CAPABILITIES: ProviderCapabilities = {
  create: true,
  list: true,
  verify: true,
  revoke: true,
  lastUsed: true,
  nativeRotate: false,
  manual: false,
  kinds: {
    'deploy-key': { create: true, lastUsed: true },
    'fine-grained-pat': {
      create: false,
      manual: true,
      note: 'GitHub has no API to create personal access tokens: a person creates one in Settings, so rotating one is a ticket; the organisation can list and revoke them.',
    },
    'classic-pat': {
      create: false,
      manual: true,
      note: 'A classic personal access token (ghp_) is created by a person in Settings and has no API to create or rotate it: rotating one is a ticket.',
    },
  },
};

/**
 * 5,000 requests an hour for an installation token (the primary limit), and GitHub's secondary limits ask for
 * no more than one content-creating request a second and no concurrency: pace creates at that.
 */
export const GITHUB_RATE_LIMIT: RateLimit = { requests: 5000, perSeconds: 3600, concurrency: 1 };

/** A key's kind from its account: a repository (`owner/repo`) holds deploy keys, an organisation PAT grants. */
export function githubKeyKind(account: string | undefined): 'deploy-key' | 'fine-grained-pat' | undefined {
  if (account === undefined) return undefined;
  return account.includes('/') ? 'deploy-key' : 'fine-grained-pat';
}
