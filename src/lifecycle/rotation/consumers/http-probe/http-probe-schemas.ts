// The `probe` settings of a consumer confirmed over HTTP (`probe: { kind: http, url: ..., check_url: ... }`).
import { z } from 'zod';

export const httpProbeSettingsSchema = z.looseObject({
  kind: z.literal('http'),
  /** GET answers JSON naming the key version the service uses, e.g. `{ "version_id": "7" }`. */
  url: z.url(),
  /** POST makes the service run its real code path with the new (pending) key; 2xx means it worked. */
  check_url: z.url().optional(),
  /** The answer's field to compare: `version_id` (default), `provider_key_id` or `fingerprint`. */
  field: z.enum(['version_id', 'provider_key_id', 'fingerprint']).default('version_id'),
  timeout_ms: z.number().int().positive().default(5_000),
  headers: z.record(z.string(), z.string()).default({}),
});

export type HttpProbeSettings = z.output<typeof httpProbeSettingsSchema>;
