// Cloudflare API tokens: the provider's declaration, read by the provider table
// (providers/provider-table.ts) without loading the adapter or its SDK, and by the adapter base (provider-adapter.ts).
import { defineProvider } from '../provider-registration.js';
import { CLOUDFLARE_CAPABILITIES, CLOUDFLARE_PROVIDER_NAME, CLOUDFLARE_RATE_LIMIT } from './cloudflare-constants.js';
import { cloudflareOptionsSchema } from './cloudflare-schemas.js';

export const cloudflareProviderRegistration = defineProvider({
  name: CLOUDFLARE_PROVIDER_NAME,
  optionsSchema: cloudflareOptionsSchema,
  capabilities: CLOUDFLARE_CAPABILITIES,
  rateLimit: CLOUDFLARE_RATE_LIMIT,
  load: async () => {
    const { CloudflareProvider } = await import('./cloudflare-provider.js');
    return (options, context) => new CloudflareProvider(options, context);
  },
});
