// The options of the GCP adapter, the service-account key file, and the API answers it reads (zod).
import { z } from 'zod';
import { SecretValue } from '../../secrets/secret-value.js';
import { httpProviderOptionsSchema } from '../http/provider-http-options.js';
import { GCP_IAM_URL, GCP_POLICY_ANALYZER_URL, GCP_RESOURCE_MANAGER_URL, GCP_TOKEN_URL } from './gcp-constants.js';

/** The JSON key file (`"type": "service_account"`) as Google returns it in `privateKeyData`. */
export const gcpKeyFileSchema = z.looseObject({
  type: z.literal('service_account'),
  project_id: z.string().optional(),
  private_key_id: z.string().min(1),
  private_key: z.string().includes('PRIVATE KEY'),
  client_email: z.string().includes('@'),
});

export type GcpKeyFile = z.output<typeof gcpKeyFileSchema>;

export const gcpOptionsSchema = httpProviderOptionsSchema.extend({
  /** The IAM API root. */
  baseUrl: z.url().default(GCP_IAM_URL),
  /** Where signed JWTs are exchanged for access tokens (the adapter's own, and verify's). */
  tokenUrl: z.url().default(GCP_TOKEN_URL),
  /** The Policy Analyzer API root, for keys' last authentication. */
  policyAnalyzerUrl: z.url().default(GCP_POLICY_ANALYZER_URL),
  /** The Resource Manager API root, for the project's IAM policy (the roles of the keys' service accounts). */
  resourceManagerUrl: z.url().default(GCP_RESOURCE_MANAGER_URL),
  /** The adapter's service-account key file (JSON text or object), key-admin role; every call but verify needs it. */
  credentials: z
    .union([z.string().min(1), z.instanceof(SecretValue), z.record(z.string(), z.unknown())])
    .transform((value) =>
      value instanceof SecretValue ? value : new SecretValue(typeof value === 'string' ? value : JSON.stringify(value)),
    )
    .optional(),
  /** The project whose service accounts `list()` walks when no account is given. */
  projectId: z.string().min(1).optional(),
});

export type GcpOptions = z.output<typeof gcpOptionsSchema>;
export type GcpOptionsInput = z.input<typeof gcpOptionsSchema>;

export const gcpServiceAccountKeySchema = z.looseObject({
  name: z.string(),
  privateKeyData: z.string().optional(),
  validAfterTime: z.string().optional(),
  validBeforeTime: z.string().optional(),
  keyType: z.string().optional(),
  disabled: z.boolean().optional(),
});

export const gcpKeyListSchema = z.looseObject({ keys: z.array(gcpServiceAccountKeySchema).default([]) });

export const gcpServiceAccountListSchema = z.looseObject({
  accounts: z.array(z.looseObject({ email: z.string() })).default([]),
  nextPageToken: z.string().optional(),
});

/** Resource Manager's Policy: `bindings` of a role to members (`serviceAccount:<email>`, `user:`, `group:`...). */
export const gcpIamPolicySchema = z.looseObject({
  bindings: z.array(z.looseObject({ role: z.string(), members: z.array(z.string()).default([]) })).default([]),
});

export const gcpTokenSchema = z.looseObject({ access_token: z.string(), expires_in: z.number() });

export const gcpActivitiesSchema = z.looseObject({
  activities: z
    .array(
      z.looseObject({
        activity: z.looseObject({ lastAuthenticatedTime: z.string().optional() }).optional(),
      }),
    )
    .default([]),
});

/** Google APIs: `{error: {code, message, status, details}}`; OAuth: `{error, error_description}`. */
export const gcpApiErrorSchema = z.looseObject({
  error: z.looseObject({
    code: z.number().optional(),
    message: z.string().optional(),
    status: z.string().optional(),
    details: z.array(z.looseObject({ '@type': z.string().optional(), retryDelay: z.string().optional() })).optional(),
  }),
});

export const gcpOauthErrorSchema = z.looseObject({ error: z.string(), error_description: z.string().optional() });
