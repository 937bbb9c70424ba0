// The `probe` settings of a consumer that cannot be asked: a fixed grace period (`probe: { kind: grace, seconds }`).
import { z } from 'zod';

export const gracePeriodSettingsSchema = z.looseObject({
  kind: z.literal('grace').optional(),
  seconds: z.number().min(0),
});
