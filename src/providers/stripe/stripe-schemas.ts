// The options of the Stripe adapter and the answers it reads (zod).
import { z } from 'zod';
import { httpProviderOptionsSchema } from '../http/provider-http-options.js';
import { STRIPE_API_URL } from './stripe-constants.js';

export const stripeOptionsSchema = httpProviderOptionsSchema.extend({
  baseUrl: z.url().default(STRIPE_API_URL),
  /** Sent as `Stripe-Version` when given; Stripe otherwise answers in the account's default version. */
  apiVersion: z.string().min(1).optional(),
});

export type StripeOptions = z.output<typeof stripeOptionsSchema>;
export type StripeOptionsInput = z.input<typeof stripeOptionsSchema>;

export const stripeBalanceSchema = z.looseObject({ object: z.literal('balance'), livemode: z.boolean() });

/** `{error: {message, type, code?, request_log_url?}}`. */
export const stripeErrorSchema = z.looseObject({
  error: z.looseObject({ message: z.string().optional(), type: z.string().optional(), code: z.string().optional() }),
});
