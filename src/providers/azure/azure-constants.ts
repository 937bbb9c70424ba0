// Facts about Entra ID application passwords the adapter relies on (microsoftgraph/msgraph-metadata v1.0 and beta:
// application, passwordCredential, addPassword, removePassword, signIn; the identity platform's client-credentials
// flow and AADSTS error codes; Graph throttling guidance).
import type { ProviderCapabilities, RateLimit } from '../provider.js';

export const AZURE_PROVIDER_NAME = 'azure';
export const AZURE_GRAPH_URL = 'https://graph.microsoft.com';
export const AZURE_LOGIN_URL = 'https://login.microsoftonline.com';
export const AZURE_GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
export const AZURE_PAGE_SIZE = 100;

export const AZURE_CAPABILITIES: ProviderCapabilities = {
  create: true,
  list: true,
  verify: true,
  revoke: true,
  lastUsed: true,
  nativeRotate: false,
  manual: false,
  kinds: {
    'app-password': {
      note: 'Last use comes from service-principal sign-in logs (Graph beta, AuditLog.Read.All and an Entra ID P1/P2 licence); a password can be removed, not disabled.',
    },
  },
};

/**
 * Graph throttles directory writes per application and tenant (of the order of a few thousand requests per
 * 10 seconds for reads, far fewer for writes) and answers 429 with Retry-After; ten calls a second stays clear.
 */
export const AZURE_RATE_LIMIT: RateLimit = { requests: 10, perSeconds: 1 };
