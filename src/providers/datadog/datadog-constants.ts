// Facts about Datadog's key-management API the adapter relies on (DataDog/datadog-api-spec v1 and v2, the Key
// Management and Audit pages of docs.datadoghq.com/api).
import type { ProviderCapabilities, RateLimit } from '../provider.js';

export const DATADOG_PROVIDER_NAME = 'datadog';
/** The US1 site; other sites (`api.datadoghq.eu`, `api.us5.datadoghq.com`...) are given as `baseUrl`. */
export const DATADOG_API_URL = 'https://api.datadoghq.com';
/** `page[size]` may not exceed 100 on the key lists. */
export const DATADOG_PAGE_SIZE = 100;
/** How far back `lastUsed` of an API key searches the Audit Trail (its default retention is 90 days). */
export const DATADOG_AUDIT_LOOKBACK_DAYS = 90;

export type DatadogKeyKind = 'api-key' | 'application-key';

export const DATADOG_CAPABILITIES: ProviderCapabilities = {
  create: true,
  list: true,
  verify: true,
  revoke: true,
  lastUsed: true,
  nativeRotate: false,
  manual: false,
  kinds: {
    'api-key': {
      note: 'Last used comes from the Audit Trail (`@metadata.api_key.id`): the key object has no such field, and Audit Trail must be enabled (audit_logs_read).',
    },
    'application-key': {
      note: 'Created for the user whose application key the adapter uses; `last_used_at` on the key.',
    },
  },
};

/**
 * Datadog sets limits per endpoint and announces them in `X-RateLimit-Limit` / `-Period` / `-Remaining` /
 * `-Reset` / `-Name`; key management has no published figure. One request a second keeps bulk work well inside
 * what those headers have been seen to allow; override with `rateLimit`.
 */
export const DATADOG_RATE_LIMIT: RateLimit = { requests: 60, perSeconds: 60 };
