// Twilio API keys: the provider's declaration, read by the provider table
// (providers/provider-table.ts) without loading the adapter or its SDK, and by the adapter base (provider-adapter.ts).
import { defineProvider } from '../provider-registration.js';
import { TWILIO_CAPABILITIES, TWILIO_PROVIDER_NAME, TWILIO_RATE_LIMIT } from './twilio-constants.js';
import { twilioOptionsSchema } from './twilio-schemas.js';

export const twilioProviderRegistration = defineProvider({
  name: TWILIO_PROVIDER_NAME,
  optionsSchema: twilioOptionsSchema,
  capabilities: TWILIO_CAPABILITIES,
  rateLimit: TWILIO_RATE_LIMIT,
  load: async () => {
    const { TwilioProvider } = await import('./twilio-provider.js');
    return (options, context) => new TwilioProvider(options, context);
  },
});
