// Facts about GCP service-account keys the adapter relies on (googleapis discovery documents iam/v1 and
// policyanalyzer/v1, Google's OAuth 2 JWT-bearer flow for service accounts, the IAM quotas page).
import type { ProviderCapabilities, RateLimit } from '../provider.js';

export const GCP_PROVIDER_NAME = 'gcp';
export const GCP_IAM_URL = 'https://iam.googleapis.com';
export const GCP_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const GCP_POLICY_ANALYZER_URL = 'https://policyanalyzer.googleapis.com';
/** Resource Manager, whose `projects.getIamPolicy` tells the roles a service account (and so its keys) holds. */
export const GCP_RESOURCE_MANAGER_URL = 'https://cloudresourcemanager.googleapis.com';
export const GCP_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
export const GCP_JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** IAM allows at most 10 user-managed keys per service account, disabled ones included. */
export const GCP_MAX_KEYS_PER_ACCOUNT = 10;
/** An access token lives an hour; the adapter renews its own a minute early. */
export const GCP_TOKEN_LIFETIME_SECONDS = 3600;

export const GCP_CAPABILITIES: ProviderCapabilities = {
  create: true,
  list: true,
  verify: true,
  revoke: true,
  lastUsed: true,
  nativeRotate: false,
  manual: false,
  maxKeysPerAccount: GCP_MAX_KEYS_PER_ACCOUNT,
  kinds: {
    'service-account-key': {
      note: "Last use comes from Policy Analyzer's serviceAccountKeyLastAuthentication activity, which Google fills with a delay (up to about two days).",
    },
  },
};

/** The IAM API's default quota for key operations is of the order of 600 a minute per project; paced at 10/s. */
export const GCP_RATE_LIMIT: RateLimit = { requests: 600, perSeconds: 60 };
