// Facts about GitLab's REST API (v4) the adapter relies on (docs.gitlab.com/api: project_access_tokens,
// group_access_tokens, personal_access_tokens, user_tokens).
import type { ProviderCapabilities, RateLimit } from '../provider.js';

export const GITLAB_PROVIDER_NAME = 'gitlab';
export const GITLAB_URL = 'https://gitlab.com';
export const GITLAB_API_PREFIX = '/api/v4';
export const GITLAB_PAGE_SIZE = 100;
/** GitLab requires an expiry; without one in the request the adapter asks for this many days. */
export const GITLAB_DEFAULT_LIFETIME_DAYS = 365;

export const GITLAB_CAPABILITIES: ProviderCapabilities = {
  create: true,
  list: true,
  verify: true,
  revoke: true,
  lastUsed: true,
  nativeRotate: true,
  manual: false,
};

/** GitLab.com's authenticated API limit: 2,000 requests a minute per user. */
export const GITLAB_RATE_LIMIT: RateLimit = { requests: 2000, perSeconds: 60 };
