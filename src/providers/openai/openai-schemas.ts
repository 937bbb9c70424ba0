// The options of the OpenAI adapter and the admin API's answers it reads (zod): the SDK types them but does not
// check them, so the fields the adapter relies on are checked here.
import { z } from 'zod';
import { SecretValue } from '../../secrets/secret-value.js';
import { httpProviderOptionsSchema } from '../http/provider-http-options.js';
import { OPENAI_API_URL } from './openai-constants.js';

export const openaiOptionsSchema = httpProviderOptionsSchema.extend({
  /** The API root without `/v1`. */
  baseUrl: z.url().default(OPENAI_API_URL),
  /** An organisation admin key (`sk-admin-`): the admin API accepts nothing else; every call but verify needs it. */
  adminKey: z
    .union([z.string().min(1), z.instanceof(SecretValue)])
    .transform((value) => (value instanceof SecretValue ? value : new SecretValue(value)))
    .optional(),
});

export type OpenaiOptions = z.output<typeof openaiOptionsSchema>;
export type OpenaiOptionsInput = z.input<typeof openaiOptionsSchema>;

export const openaiProjectIdSchema = z
  .string()
  .regex(/^proj_[A-Za-z0-9]+$/, { message: 'expected a project id (proj_...)' });

export const openaiServiceAccountCreatedSchema = z.looseObject({
  id: z.string(),
  created_at: z.number().nullish(),
  api_key: z.looseObject({ id: z.string(), value: z.string(), created_at: z.number().nullish() }).nullish(),
});

export const openaiServiceAccountKeySchema = z.looseObject({
  id: z.string(),
  value: z.string(),
  created_at: z.number().nullish(),
  expires_at: z.number().nullish(),
});

export const openaiProjectKeySchema = z.looseObject({
  id: z.string(),
  name: z.string().nullish(),
  created_at: z.number().nullish(),
  last_used_at: z.number().nullish(),
  owner: z
    .looseObject({
      type: z.string(),
      user: z.looseObject({ id: z.string(), email: z.string().nullish() }).nullish(),
      service_account: z.looseObject({ id: z.string(), name: z.string().nullish() }).nullish(),
    })
    .nullish(),
});

/** `{error: {message, type, param, code}}`. */
export const openaiErrorSchema = z.looseObject({
  error: z.looseObject({
    message: z.string().nullish(),
    type: z.string().nullish(),
    code: z.string().nullish(),
  }),
});
