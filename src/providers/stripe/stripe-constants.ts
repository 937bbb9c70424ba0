// Facts about Stripe the adapter relies on (stripe/openapi: `GET /v1/balance`, the error object; stripe.com/docs
// keys, rate limits). Stripe has no API for API keys: creating, rolling and expiring them happen in the Dashboard.
import type { ProviderCapabilities, RateLimit } from '../provider.js';

export const STRIPE_PROVIDER_NAME = 'stripe';
export const STRIPE_API_URL = 'https://api.stripe.com';

const DASHBOARD_NOTE =
  'Stripe has no API to create, list, roll or revoke API keys: a person rolls the key in the Dashboard (Developers -> API keys, optionally keeping the old one alive for up to 7 days), so rotation is a ticket. keyledger can only prove a key works.';

export const STRIPE_CAPABILITIES: ProviderCapabilities = {
  create: false,
  list: false,
  verify: true,
  revoke: false,
  lastUsed: false,
  nativeRotate: false,
  manual: true,
  kinds: {
    'secret-key': { note: DASHBOARD_NOTE },
    'restricted-key': {
      note: `${DASHBOARD_NOTE} A restricted key without balance read is still proven: Stripe answers 403 naming the permission it lacks, which it only does for a key it accepted.`,
    },
  },
};

/** Stripe allows 100 read requests a second in live mode (25 in test mode); paced at the test-mode figure. */
export const STRIPE_RATE_LIMIT: RateLimit = { requests: 25, perSeconds: 1 };
