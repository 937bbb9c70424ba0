// The options of the AWS IAM adapter: the shared HTTP options (the endpoint is optional: without it the SDK uses
// AWS's own), the region, the credentials the adapter calls IAM with, and the eventual-consistency window.
import { z } from 'zod';
import { SecretValue } from '../../secrets/secret-value.js';
import { httpProviderOptionsSchema } from '../http/provider-http-options.js';
import { AWS_DEFAULT_REGION } from './aws-iam-constants.js';

export const awsIamOptionsSchema = httpProviderOptionsSchema.extend({
  /** IAM endpoint; unset means AWS's. A sandbox serves IAM and STS on one URL. */
  baseUrl: z.url().optional(),
  /** STS endpoint for verify; defaults to `baseUrl`. */
  stsBaseUrl: z.url().optional(),
  region: z.string().min(1).default(AWS_DEFAULT_REGION),
  /** What the adapter calls IAM with; not needed to verify a key (STS is called with the key itself). */
  credentials: z
    .object({
      accessKeyId: z
        .string()
        .regex(/^(AKIA|ASIA)[A-Z2-7]{16}$/, { message: 'expected an AWS access key id (AKIA...)' }),
      secretAccessKey: z
        .union([z.string().min(1), z.instanceof(SecretValue)])
        .transform((value) => (value instanceof SecretValue ? value : new SecretValue(value))),
      sessionToken: z.string().optional(),
    })
    .optional(),
  /** How long a freshly created key may fail authentication before verify reports it invalid. */
  consistencyTimeoutMs: z.number().int().min(0).default(15_000),
});

export type AwsIamOptions = z.output<typeof awsIamOptionsSchema>;
export type AwsIamOptionsInput = z.input<typeof awsIamOptionsSchema>;
