// Facts about Slack the adapter relies on (api.slack.com methods auth.test and auth.revoke, token types, rate-limit
// tiers, incoming webhooks' error strings).
import type { ProviderCapabilities, RateLimit } from '../provider.js';

export const SLACK_PROVIDER_NAME = 'slack';
export const SLACK_API_URL = 'https://slack.com/api';

/** `auth.revoke` (and `auth.test`) answers that mean the token no longer works. */
export const SLACK_DEAD_TOKEN_ERRORS = new Set([
  'invalid_auth',
  'token_revoked',
  'token_expired',
  'account_inactive',
  'not_authed',
]);

export const SLACK_CAPABILITIES: ProviderCapabilities = {
  create: false,
  list: false,
  verify: true,
  revoke: true,
  lastUsed: false,
  nativeRotate: false,
  manual: true,
  kinds: {
    'bot-token': {
      verify: true,
      revoke: true,
      note: 'Created by installing the app (its OAuth & Permissions page); auth.revoke revokes a token with the token itself, so revoke() needs the secret. Apps that opt into token rotation refresh via oauth.v2.access with a refresh token, which keyledger does not hold.',
    },
    'user-token': { verify: true, revoke: true, note: 'Created when a user authorises the app; as bot tokens.' },
    'incoming-webhook': {
      verify: false,
      revoke: false,
      manual: true,
      note: "An incoming webhook can be proven only by posting a message to its channel, so verify is unsupported; it is created and removed in the app's Incoming Webhooks page.",
    },
  },
};

/** auth.revoke is Tier 3 (50+ calls a minute); auth.test has a higher, special limit. */
export const SLACK_RATE_LIMIT: RateLimit = { requests: 50, perSeconds: 60 };
