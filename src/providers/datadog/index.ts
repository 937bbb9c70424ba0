// Datadog API and application keys: the provider's declaration, read by the provider table
// (providers/provider-table.ts) without loading the adapter or its SDK, and by the adapter base (provider-adapter.ts).
import { defineProvider } from '../provider-registration.js';
import { DATADOG_CAPABILITIES, DATADOG_PROVIDER_NAME, DATADOG_RATE_LIMIT } from './datadog-constants.js';
import { datadogOptionsSchema } from './datadog-schemas.js';

export const datadogProviderRegistration = defineProvider({
  name: DATADOG_PROVIDER_NAME,
  optionsSchema: datadogOptionsSchema,
  capabilities: DATADOG_CAPABILITIES,
  rateLimit: DATADOG_RATE_LIMIT,
  load: async () => {
    const { DatadogProvider } = await import('./datadog-provider.js');
    return (options, context) => new DatadogProvider(options, context);
  },
});
