// Facts about SendGrid's v3 API Keys API the adapter relies on (sendgrid/sendgrid-oai `tsg_api_keys_v3`,
// `tsg_scopes_v3`; docs.sendgrid.com "API Keys", "Rate Limits", "Subusers").
import type { ProviderCapabilities, RateLimit } from '../provider.js';

export const SENDGRID_PROVIDER_NAME = 'sendgrid';
export const SENDGRID_API_URL = 'https://api.sendgrid.com';
/** SendGrid allows at most 100 API keys per user. */
export const SENDGRID_MAX_KEYS_PER_USER = 100;
/** `GET /v3/subusers` pages by `limit` / `offset`. */
export const SENDGRID_SUBUSER_PAGE_SIZE = 100;

export const SENDGRID_CAPABILITIES: ProviderCapabilities = {
  create: true,
  list: true,
  verify: true,
  revoke: true,
  // SendGrid shows no last use of a key, in the API or the UI.
  lastUsed: false,
  nativeRotate: false,
  manual: false,
  maxKeysPerAccount: SENDGRID_MAX_KEYS_PER_USER,
};

/**
 * SendGrid limits per endpoint and announces it in `X-RateLimit-Limit/-Remaining/-Reset` (Unix time); 600 calls
 * a minute is the figure its v3 endpoints commonly answer with. The adapter paces at that.
 */
export const SENDGRID_RATE_LIMIT: RateLimit = { requests: 600, perSeconds: 60 };
