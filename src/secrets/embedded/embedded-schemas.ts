// The options of the embedded store, validated once (STYLE habit 3); the type is inferred from the schema.
import { z } from 'zod';

export const embeddedSecretStoreOptionsSchema = z
  .object({
    /** Versions kept per path, staged ones included; older unstaged versions are deleted. */
    maxVersions: z.number().int().min(3).max(1000).default(10),
    /** The keyring file; `<data dir>/master.key` by default. Ignored when KEYLEDGER_MASTER_KEY is set. */
    masterKeyFile: z.string().min(1).optional(),
  })
  .strict();

export type EmbeddedSecretStoreOptionsInput = z.input<typeof embeddedSecretStoreOptionsSchema>;
export type EmbeddedSecretStoreOptionsParsed = z.output<typeof embeddedSecretStoreOptionsSchema>;
