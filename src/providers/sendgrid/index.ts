// SendGrid API keys: the provider's declaration, read by the provider table
// (providers/provider-table.ts) without loading the adapter or its SDK, and by the adapter base (provider-adapter.ts).
import { defineProvider } from '../provider-registration.js';
import { SENDGRID_CAPABILITIES, SENDGRID_PROVIDER_NAME, SENDGRID_RATE_LIMIT } from './sendgrid-constants.js';
import { sendgridOptionsSchema } from './sendgrid-schemas.js';

export const sendgridProviderRegistration = defineProvider({
  name: SENDGRID_PROVIDER_NAME,
  optionsSchema: sendgridOptionsSchema,
  capabilities: SENDGRID_CAPABILITIES,
  rateLimit: SENDGRID_RATE_LIMIT,
  load: async () => {
    const { SendgridProvider } = await import('./sendgrid-provider.js');
    return (options, context) => new SendgridProvider(options, context);
  },
});
