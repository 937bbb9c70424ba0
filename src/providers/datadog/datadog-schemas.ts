// The options of the Datadog adapter and the JSON:API documents Datadog answers (zod).
import { z } from 'zod';
import { SecretValue } from '../../secrets/secret-value.js';
import { httpProviderOptionsSchema } from '../http/provider-http-options.js';
import { DATADOG_API_URL } from './datadog-constants.js';

const secretSchema = z
  .union([z.string().min(1), z.instanceof(SecretValue)])
  .transform((value) => (value instanceof SecretValue ? value : new SecretValue(value)))
  .optional();

export const datadogOptionsSchema = httpProviderOptionsSchema.extend({
  /** The site's API root: `https://api.datadoghq.com`, `https://api.datadoghq.eu`, `https://api.us5.datadoghq.com`... */
  baseUrl: z.url().default(DATADOG_API_URL),
  /** An API key of the organisation (`DD-API-KEY`); every call but verifying an API key needs it. */
  apiKey: secretSchema,
  /** An application key of a user or service account with api_keys_write, org_app_keys_write, audit_logs_read. */
  applicationKey: secretSchema,
  /** The organisation's name, reported as the account of every key. */
  org: z.string().min(1).default('datadog'),
});

export type DatadogOptions = z.output<typeof datadogOptionsSchema>;
export type DatadogOptionsInput = z.input<typeof datadogOptionsSchema>;

export const datadogKeySchema = z.looseObject({
  type: z.enum(['api_keys', 'application_keys']),
  id: z.string(),
  attributes: z.looseObject({
    name: z.string().nullish(),
    created_at: z.string().nullish(),
    last4: z.string().nullish(),
    key: z.string().nullish(),
    scopes: z.array(z.string()).nullish(),
    last_used_at: z.string().nullish(),
  }),
  relationships: z
    .looseObject({
      created_by: z.looseObject({ data: z.looseObject({ id: z.string() }).nullish() }).nullish(),
      owned_by: z.looseObject({ data: z.looseObject({ id: z.string() }).nullish() }).nullish(),
    })
    .nullish(),
});

export type DatadogKey = z.output<typeof datadogKeySchema>;

export const datadogKeyDocumentSchema = z.looseObject({ data: datadogKeySchema });
export const datadogKeyListSchema = z.looseObject({ data: z.array(datadogKeySchema) });

export const datadogAuditEventsSchema = z.looseObject({
  data: z.array(
    z.looseObject({
      id: z.string(),
      attributes: z.looseObject({
        timestamp: z.string(),
        attributes: z
          .looseObject({
            network: z.looseObject({ client: z.looseObject({ ip: z.string().nullish() }).nullish() }).nullish(),
            http: z.looseObject({ url_details: z.looseObject({ path: z.string().nullish() }).nullish() }).nullish(),
          })
          .nullish(),
      }),
    }),
  ),
});

/** Datadog's error body: `{"errors": ["Forbidden"]}` (strings), sometimes JSON:API error objects. */
export const datadogErrorSchema = z.looseObject({
  errors: z.array(
    z.union([z.string(), z.looseObject({ title: z.string().optional(), detail: z.string().optional() })]),
  ),
});
