// The `probe` settings of a consumer fed by the External Secrets Operator, and the part of an `ExternalSecret`
// object we read (external-secrets.io: status.refreshTime, status.syncedResourceVersion, status.conditions).
import { z } from 'zod';

export const externalSecretSettingsSchema = z.looseObject({
  kind: z.literal('external-secret').optional(),
  /** The ExternalSecret's name and namespace. */
  name: z.string().min(1),
  namespace: z.string().min(1).default('default'),
  /** The Kubernetes API server; default: in-cluster (KUBERNETES_SERVICE_HOST / _PORT). */
  api_server: z.url().optional(),
  /** An environment variable holding a bearer token; default: the pod's service-account token file. */
  token_env: z.string().optional(),
  api_version: z.string().default('external-secrets.io/v1beta1'),
  timeout_ms: z.number().int().positive().default(5_000),
});

export const externalSecretObjectSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string().optional() }).optional(),
  status: z
    .looseObject({
      refreshTime: z.string().nullish(),
      syncedResourceVersion: z.string().nullish(),
      conditions: z
        .array(
          z.looseObject({
            type: z.string(),
            status: z.string(),
            reason: z.string().optional(),
            message: z.string().optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});
