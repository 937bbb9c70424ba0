// Slack tokens and webhooks: the provider's declaration, read by the provider table
// (providers/provider-table.ts) without loading the adapter or its SDK, and by the adapter base (provider-adapter.ts).
import { defineProvider } from '../provider-registration.js';
import { SLACK_CAPABILITIES, SLACK_PROVIDER_NAME, SLACK_RATE_LIMIT } from './slack-constants.js';
import { slackOptionsSchema } from './slack-schemas.js';

export const slackProviderRegistration = defineProvider({
  name: SLACK_PROVIDER_NAME,
  optionsSchema: slackOptionsSchema,
  capabilities: SLACK_CAPABILITIES,
  rateLimit: SLACK_RATE_LIMIT,
  load: async () => {
    const { SlackProvider } = await import('./slack-provider.js');
    return (options, context) => new SlackProvider(options, context);
  },
});
