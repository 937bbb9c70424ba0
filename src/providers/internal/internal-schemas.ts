// Options of the `internal` provider, from keyledger.config.yaml `providers.internal` or `--scope`.
import { z } from 'zod';
import { INTERNAL_DEFAULT_PREFIX, INTERNAL_ENVIRONMENTS } from './internal-constants.js';

export const internalProviderOptionsSchema = z.strictObject({
  /** The recognisable start of every key (`kl_live_...`): 2-16 lower-case letters and digits. */
  prefix: z
    .string()
    .regex(/^[a-z][a-z0-9]{1,15}$/)
    .default(INTERNAL_DEFAULT_PREFIX),
  environment: z.enum(INTERNAL_ENVIRONMENTS).default('live'),
});

export type InternalProviderOptions = z.output<typeof internalProviderOptionsSchema>;
