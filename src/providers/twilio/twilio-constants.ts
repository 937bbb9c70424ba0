// Facts about Twilio's REST API (2010-04-01) the adapter relies on (twilio/twilio-oai `twilio_api_v2010.json`,
// twilio.com/docs/usage/api/keys and /docs/iam/api-keys).
import type { ProviderCapabilities, RateLimit } from '../provider.js';

export const TWILIO_PROVIDER_NAME = 'twilio';
export const TWILIO_API_URL = 'https://api.twilio.com';
/** `PageSize` may be up to 1,000; 50 is Twilio's default. */
export const TWILIO_PAGE_SIZE = 1000;

export const TWILIO_CAPABILITIES: ProviderCapabilities = {
  create: true,
  list: true,
  verify: true,
  revoke: true,
  // Twilio keeps no last-use date for an API key, in the API or the Console.
  lastUsed: false,
  nativeRotate: false,
  manual: false,
  kinds: {
    'api-key': {
      note: 'Keys created over the API are Standard keys. Managing keys needs the account SID and auth token or a Main key, which only the Console creates.',
    },
  },
};

/**
 * Twilio publishes no per-second figure for the REST API; it limits concurrent requests per account (100 by
 * default) and answers 429 with error 20429 beyond them. Ten calls a second stays far below that.
 */
export const TWILIO_RATE_LIMIT: RateLimit = { requests: 10, perSeconds: 1, concurrency: 100 };

/** Twilio error codes the adapter branches on. */
export const TWILIO_ERROR_AUTHENTICATE = 20003;
export const TWILIO_ERROR_NOT_FOUND = 20404;
export const TWILIO_ERROR_TOO_MANY_REQUESTS = 20429;
