// Facts about OpenAI's API the adapter relies on (openai/openai-openapi: the admin API's projects, service
// accounts, project API keys and audit logs; `GET /v1/models`; error and rate-limit headers).
import type { ProviderCapabilities, RateLimit } from '../provider.js';

export const OPENAI_PROVIDER_NAME = 'openai';
export const OPENAI_API_URL = 'https://api.openai.com';
/** The admin API's list endpoints take `limit` 1-100. */
export const OPENAI_PAGE_SIZE = 100;

export const OPENAI_CAPABILITIES: ProviderCapabilities = {
  create: true,
  list: true,
  verify: true,
  revoke: true,
  lastUsed: true,
  nativeRotate: false,
  manual: false,
  kinds: {
    'service-account-key': {
      note: 'Created by the admin API: a new project service account with its key, or another key of an existing one (options.serviceAccountId).',
    },
    'project-api-key': {
      create: false,
      manual: true,
      note: "A user's project key (sk-proj-) is created by that user in the dashboard; the admin API lists and deletes it.",
    },
  },
};

/** OpenAI publishes no rate for the admin API; one call a second is a conservative pace. */
export const OPENAI_RATE_LIMIT: RateLimit = { requests: 60, perSeconds: 60 };
