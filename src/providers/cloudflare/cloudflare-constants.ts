// Facts about Cloudflare's API (`/client/v4`) for user API tokens (cloudflare/api-schemas, the `user.tokens`
// resources of cloudflare-typescript, developers.cloudflare.com "Roll tokens", "Token formats", "Rate limits").
import type { ProviderCapabilities, RateLimit } from '../provider.js';

export const CLOUDFLARE_PROVIDER_NAME = 'cloudflare';
export const CLOUDFLARE_API_URL = 'https://api.cloudflare.com/client/v4';
export const CLOUDFLARE_PAGE_SIZE = 50;
/** Without permissions or policies in the request, a new token may read the user's account details only. */
export const CLOUDFLARE_DEFAULT_RESOURCES: Record<string, string> = { 'com.cloudflare.api.account.*': '*' };

export const CLOUDFLARE_CAPABILITIES: ProviderCapabilities = {
  create: true,
  list: true,
  verify: true,
  revoke: true,
  lastUsed: true,
  // PUT /user/tokens/{id}/value rolls the secret in place...
  nativeRotate: true,
  // ...and the old value stops working at that moment: no overlap for consumers.
  nativeRotateRevokesOld: true,
  manual: false,
  kinds: {
    'api-token': {
      note: 'rotate() rolls the value in place and invalidates the old one at once. For a rotation without downtime, create a token with the same policies, roll it out, then revoke the old one; roll only a lost or leaked token.',
    },
  },
};

/** 1,200 requests per five minutes per user (all of a user's tokens share it); 429 with Retry-After beyond. */
export const CLOUDFLARE_RATE_LIMIT: RateLimit = { requests: 1200, perSeconds: 300 };
