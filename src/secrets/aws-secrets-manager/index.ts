// The AWS Secrets Manager store: the SDK v3 client, stages as the rotation protocol's staging labels.
import type { SecretStoreDefinition } from '../secret-store-definition.js';
import { awsSecretsManagerSecretStoreOptionsSchema } from './aws-secrets-manager-schemas.js';
import { AwsSecretsManagerSecretStore } from './aws-secrets-manager-secret-store.js';

export * from './aws-secrets-manager-schemas.js';
export { AwsSecretsManagerSecretStore, clientRequestTokenFor } from './aws-secrets-manager-secret-store.js';

export const awsSecretsManagerSecretStoreDefinition: SecretStoreDefinition<
  typeof awsSecretsManagerSecretStoreOptionsSchema
> = {
  kind: 'aws-secrets-manager',
  description: 'AWS Secrets Manager, stages as AWSPENDING / AWSCURRENT / AWSPREVIOUS',
  optionsSchema: awsSecretsManagerSecretStoreOptionsSchema,
  defaultsFromEnv(env) {
    const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
    // Credentials are left to the SDK's default chain (environment, profile, instance role).
    return region ? { region } : {};
  },
  create: (options) => new AwsSecretsManagerSecretStore(options),
};
