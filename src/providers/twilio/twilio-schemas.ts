// The options of the Twilio adapter and Twilio's error body (zod); the SDK reads the resources themselves.
import { z } from 'zod';
import { SecretValue } from '../../secrets/secret-value.js';
import { httpProviderOptionsSchema } from '../http/provider-http-options.js';
import { TWILIO_API_URL } from './twilio-constants.js';

export const twilioAccountSidSchema = z
  .string()
  .regex(/^AC[0-9a-fA-F]{32}$/, { message: 'expected an account SID (AC + 32 hex)' });

export const twilioOptionsSchema = httpProviderOptionsSchema.extend({
  baseUrl: z.url().default(TWILIO_API_URL),
  /** The (main) account whose keys, and whose subaccounts' keys, the adapter manages (verify: the default account). */
  accountSid: twilioAccountSidSchema.optional(),
  /** The account's auth token, or the secret of a Main API key given as `keySid`; every call but verify needs it. */
  authToken: z
    .union([z.string().min(1), z.instanceof(SecretValue)])
    .transform((value) => (value instanceof SecretValue ? value : new SecretValue(value)))
    .optional(),
  /** A Main API key's SID to authenticate with instead of the account SID (its secret goes in `authToken`). */
  keySid: z
    .string()
    .regex(/^SK[0-9a-fA-F]{32}$/)
    .optional(),
});

export type TwilioOptions = z.output<typeof twilioOptionsSchema>;
export type TwilioOptionsInput = z.input<typeof twilioOptionsSchema>;

/** `{code: 20404, message, more_info, status}`; authentication failures may carry `detail` too. */
export const twilioErrorSchema = z.looseObject({
  code: z.number().optional(),
  message: z.string().optional(),
  detail: z.string().optional(),
  more_info: z.string().optional(),
});
