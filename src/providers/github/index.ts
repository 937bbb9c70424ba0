// GitHub deploy keys and fine-grained PATs: the provider's declaration, read by the provider table
// (providers/provider-table.ts) without loading the adapter or its SDK, and by the adapter base (provider-adapter.ts).
import { defineProvider } from '../provider-registration.js';
import { GITHUB_CAPABILITIES, GITHUB_PROVIDER_NAME, GITHUB_RATE_LIMIT, githubKeyKind } from './github-constants.js';
import { githubOptionsSchema } from './github-schemas.js';

export const githubProviderRegistration = defineProvider({
  name: GITHUB_PROVIDER_NAME,
  optionsSchema: githubOptionsSchema,
  capabilities: GITHUB_CAPABILITIES,
  rateLimit: GITHUB_RATE_LIMIT,
  kindOf: githubKeyKind,
  load: async () => {
    const { GithubProvider } = await import('./github-provider.js');
    return (options, context) => new GithubProvider(options, context);
  },
  repositories: {
    load: async () => {
      const { GithubProvider } = await import('./github-provider.js');
      return (options, context) => new GithubProvider(options, context);
    },
  },
});
