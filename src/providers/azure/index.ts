// Azure (Entra) application client secrets: the provider's declaration, read by the provider table
// (providers/provider-table.ts) without loading the adapter or its SDK, and by the adapter base (provider-adapter.ts).
import { defineProvider } from '../provider-registration.js';
import { AZURE_CAPABILITIES, AZURE_PROVIDER_NAME, AZURE_RATE_LIMIT } from './azure-constants.js';
import { azureOptionsSchema } from './azure-schemas.js';

export const azureProviderRegistration = defineProvider({
  name: AZURE_PROVIDER_NAME,
  optionsSchema: azureOptionsSchema,
  capabilities: AZURE_CAPABILITIES,
  rateLimit: AZURE_RATE_LIMIT,
  load: async () => {
    const { AzureProvider } = await import('./azure-provider.js');
    return (options, context) => new AzureProvider(options, context);
  },
});
