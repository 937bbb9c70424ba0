// Stripe API keys: the provider's declaration, read by the provider table
// (providers/provider-table.ts) without loading the adapter or its SDK, and by the adapter base (provider-adapter.ts).
import { defineProvider } from '../provider-registration.js';
import { STRIPE_CAPABILITIES, STRIPE_PROVIDER_NAME, STRIPE_RATE_LIMIT } from './stripe-constants.js';
import { stripeOptionsSchema } from './stripe-schemas.js';

export const stripeProviderRegistration = defineProvider({
  name: STRIPE_PROVIDER_NAME,
  optionsSchema: stripeOptionsSchema,
  capabilities: STRIPE_CAPABILITIES,
  rateLimit: STRIPE_RATE_LIMIT,
  load: async () => {
    const { StripeProvider } = await import('./stripe-provider.js');
    return (options, context) => new StripeProvider(options, context);
  },
});
