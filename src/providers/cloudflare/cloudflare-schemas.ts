// The options of the Cloudflare adapter and the envelope and token objects Cloudflare answers (zod): the SDK types
// its results without checking them, so what the adapter relies on is checked with these.
import { z } from 'zod';
import { SecretValue } from '../../secrets/secret-value.js';
import { httpProviderOptionsSchema } from '../http/provider-http-options.js';
import { CLOUDFLARE_API_URL } from './cloudflare-constants.js';

export const cloudflareOptionsSchema = httpProviderOptionsSchema.extend({
  /** The API root including `/client/v4`, as the SDK's `baseURL` (default `https://api.cloudflare.com/client/v4`). */
  baseUrl: z.url().default(CLOUDFLARE_API_URL),
  /** A user API token with "API Tokens Write" (User scope); every call but verify needs it. */
  token: z
    .union([z.string().min(1), z.instanceof(SecretValue)])
    .transform((value) => (value instanceof SecretValue ? value : new SecretValue(value)))
    .optional(),
  /** The account reported for every token: the user's tokens are the user's, whatever zones they reach. */
  account: z.string().min(1).default('user'),
});

export type CloudflareOptions = z.output<typeof cloudflareOptionsSchema>;
export type CloudflareOptionsInput = z.input<typeof cloudflareOptionsSchema>;

export const cloudflarePolicySchema = z.looseObject({
  effect: z.enum(['allow', 'deny']),
  resources: z.record(z.string(), z.unknown()),
  permission_groups: z.array(z.looseObject({ id: z.string(), name: z.string().optional() })).min(1),
});

export const cloudflareTokenSchema = z.looseObject({
  id: z.string(),
  name: z.string().nullish(),
  status: z.enum(['active', 'disabled', 'expired']).or(z.string()),
  issued_on: z.string().nullish(),
  last_used_on: z.string().nullish(),
  expires_on: z.string().nullish(),
  policies: z.array(cloudflarePolicySchema.partial()).nullish(),
  value: z.string().nullish(),
});

export const cloudflareVerifySchema = z.looseObject({ id: z.string(), status: z.string() });

export const cloudflareResultInfoSchema = z.looseObject({ page: z.number(), total_pages: z.number() });

/**
 * Every answer is `{success, errors: [{code, message}], messages, result, result_info?}`; the SDK hands over
 * `result` (and a list page's `result_info`), and an error answer's envelope is read for its `errors`.
 */
export const cloudflareEnvelopeSchema = z.looseObject({
  success: z.boolean(),
  errors: z.array(z.looseObject({ code: z.number(), message: z.string() })).default([]),
});
