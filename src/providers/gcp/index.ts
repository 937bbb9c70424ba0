// GCP service-account keys: the provider's declaration, read by the provider table
// (providers/provider-table.ts) without loading the adapter or its SDK, and by the adapter base (provider-adapter.ts).
import { defineProvider } from '../provider-registration.js';
import { GCP_CAPABILITIES, GCP_PROVIDER_NAME, GCP_RATE_LIMIT } from './gcp-constants.js';
import { gcpOptionsSchema } from './gcp-schemas.js';

export const gcpProviderRegistration = defineProvider({
  name: GCP_PROVIDER_NAME,
  optionsSchema: gcpOptionsSchema,
  capabilities: GCP_CAPABILITIES,
  rateLimit: GCP_RATE_LIMIT,
  load: async () => {
    const { GcpProvider } = await import('./gcp-provider.js');
    return (options, context) => new GcpProvider(options, context);
  },
});
