// OpenAI project API keys: the provider's declaration, read by the provider table
// (providers/provider-table.ts) without loading the adapter or its SDK, and by the adapter base (provider-adapter.ts).
import { defineProvider } from '../provider-registration.js';
import { OPENAI_CAPABILITIES, OPENAI_PROVIDER_NAME, OPENAI_RATE_LIMIT } from './openai-constants.js';
import { openaiOptionsSchema } from './openai-schemas.js';

export const openaiProviderRegistration = defineProvider({
  name: OPENAI_PROVIDER_NAME,
  optionsSchema: openaiOptionsSchema,
  capabilities: OPENAI_CAPABILITIES,
  rateLimit: OPENAI_RATE_LIMIT,
  load: async () => {
    const { OpenaiProvider } = await import('./openai-provider.js');
    return (options, context) => new OpenaiProvider(options, context);
  },
});
