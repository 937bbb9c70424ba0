// The options of the Datadog adapter, and the parts of Datadog's answers the SDK leaves untyped (zod).
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

/**
 * The free-form `attributes` of an Audit Trail event (the SDK types them `{ [key: string]: any }`): the caller's
 * address is all the adapter reads.
 */
export const datadogAuditAttributesSchema = z.looseObject({
  network: z.looseObject({ client: z.looseObject({ ip: z.string().nullish() }).nullish() }).nullish(),
});

/** Datadog's error body: `{"errors": ["Forbidden"]}` (strings), sometimes JSON:API error objects. */
export const datadogErrorSchema = z.looseObject({
  errors: z.array(
    z.union([z.string(), z.looseObject({ title: z.string().optional(), detail: z.string().optional() })]),
  ),
});
