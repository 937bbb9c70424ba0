// The `probe` settings of a consumer confirmed by a command (`probe: { kind: command, command: [...] }`).
import { z } from 'zod';

export const commandHookSettingsSchema = z.looseObject({
  kind: z.literal('command'),
  /** argv of the command; exit 0 = confirmed, 75 (EX_TEMPFAIL) = not yet, anything else = failed. */
  command: z.array(z.string().min(1)).min(1),
  /** argv of a command that runs the consumer's real code path with the new key (exit 0 = it works). */
  check_command: z.array(z.string().min(1)).min(1).optional(),
  timeout_seconds: z.number().positive().default(30),
  cwd: z.string().optional(),
});

export type CommandHookSettings = z.output<typeof commandHookSettingsSchema>;
