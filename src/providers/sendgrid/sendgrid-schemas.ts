// The options of the SendGrid adapter and the v3 answers it reads (zod).
import { z } from 'zod';
import { SecretValue } from '../../secrets/secret-value.js';
import { httpProviderOptionsSchema } from '../http/provider-http-options.js';
import { SENDGRID_API_URL } from './sendgrid-constants.js';

export const sendgridOptionsSchema = httpProviderOptionsSchema.extend({
  baseUrl: z.url().default(SENDGRID_API_URL),
  /** A parent-account key with the api_keys.* scopes (and subusers.read); every call but verify needs it. */
  apiKey: z
    .union([z.string().min(1), z.instanceof(SecretValue)])
    .transform((value) => (value instanceof SecretValue ? value : new SecretValue(value)))
    .optional(),
});

export type SendgridOptions = z.output<typeof sendgridOptionsSchema>;
export type SendgridOptionsInput = z.input<typeof sendgridOptionsSchema>;

export const sendgridCreatedKeySchema = z.looseObject({
  api_key: z.string(),
  api_key_id: z.string(),
  name: z.string().nullish(),
  scopes: z.array(z.string()).nullish(),
});

export const sendgridKeyListSchema = z.looseObject({
  result: z.array(
    z.looseObject({ api_key_id: z.string(), name: z.string().nullish(), scopes: z.array(z.string()).nullish() }),
  ),
});

/** `GET /v3/subusers` answers a bare array. */
export const sendgridSubuserListSchema = z.array(
  z.looseObject({ username: z.string(), disabled: z.boolean().optional() }),
);

export const sendgridScopesSchema = z.looseObject({ scopes: z.array(z.string()) });

/** `{"errors": [{"field": null, "message": "authorization required"}]}`. */
export const sendgridErrorSchema = z.looseObject({
  errors: z.array(z.looseObject({ field: z.string().nullish(), message: z.string().nullish() })),
});
