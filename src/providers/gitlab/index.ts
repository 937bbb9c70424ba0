// GitLab personal, project and group access tokens: the provider's declaration, read by the provider table
// (providers/provider-table.ts) without loading the adapter or its SDK, and by the adapter base (provider-adapter.ts).
import { defineProvider } from '../provider-registration.js';
import { GITLAB_CAPABILITIES, GITLAB_PROVIDER_NAME, GITLAB_RATE_LIMIT } from './gitlab-constants.js';
import { gitlabOptionsSchema } from './gitlab-schemas.js';

export const gitlabProviderRegistration = defineProvider({
  name: GITLAB_PROVIDER_NAME,
  optionsSchema: gitlabOptionsSchema,
  capabilities: GITLAB_CAPABILITIES,
  rateLimit: GITLAB_RATE_LIMIT,
  load: async () => {
    const { GitlabProvider } = await import('./gitlab-provider.js');
    return (options, context) => new GitlabProvider(options, context);
  },
  repositories: {
    load: async () => {
      const { GitlabProvider } = await import('./gitlab-provider.js');
      return (options, context) => new GitlabProvider(options, context);
    },
  },
});
