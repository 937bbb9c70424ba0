// The options of the AWS Secrets Manager store, validated once (STYLE habit 3); the type is inferred.
import { z } from 'zod';

export const awsSecretsManagerSecretStoreOptionsSchema = z
  .object({
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/),
    /** Another endpoint than AWS's own (a VPC endpoint, LocalStack, the sandbox). */
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
    /** Static credentials; without them the SDK's default chain applies (environment, profile, instance role). */
    credentials: z
      .object({
        accessKeyId: z.string().min(16),
        secretAccessKey: z.string().min(1),
        sessionToken: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /** Prepended to every path to form the secret name, e.g. `keyledger/` gives `keyledger/payments/stripe`. */
    namePrefix: z
      .string()
      .regex(/^[A-Za-z0-9/_+=.@-]*$/)
      .default(''),
    /** The SDK's attempts per call (it retries throttling and 5xx itself). */
    maxAttempts: z.number().int().min(1).max(10).default(3),
  })
  .strict();

export type AwsSecretsManagerSecretStoreOptionsInput = z.input<typeof awsSecretsManagerSecretStoreOptionsSchema>;
export type AwsSecretsManagerSecretStoreOptions = z.output<typeof awsSecretsManagerSecretStoreOptionsSchema>;
