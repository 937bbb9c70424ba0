// AWS IAM access keys: the provider's declaration, read by the provider table
// (providers/provider-table.ts) without loading the adapter or its SDK, and by the adapter base (provider-adapter.ts).
import { defineProvider } from '../provider-registration.js';
import { AWS_IAM_CAPABILITIES, AWS_IAM_PROVIDER_NAME, AWS_IAM_RATE_LIMIT } from './aws-iam-constants.js';
import { awsIamOptionsSchema } from './aws-iam-schemas.js';

export const awsIamProviderRegistration = defineProvider({
  name: AWS_IAM_PROVIDER_NAME,
  optionsSchema: awsIamOptionsSchema,
  capabilities: AWS_IAM_CAPABILITIES,
  rateLimit: AWS_IAM_RATE_LIMIT,
  load: async () => {
    const { AwsIamProvider } = await import('./aws-iam-provider.js');
    return (options, context) => new AwsIamProvider(options, context);
  },
});
