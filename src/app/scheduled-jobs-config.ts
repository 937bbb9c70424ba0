// The server config's `jobs` section (docs/scale-out.md): background work the fleet runs once per tick, each off
// unless configured. Beside the job kinds it configures (background-job-kinds.ts); src/server/server-config.ts
// reads it as part of the server's config file.
import { z } from 'zod';
import { BUILTIN_AUDIT_LOG_FORMATS } from '../audit-logs/audit-log-reader-table.js';
import { checkCronExpression } from '../runtime/cron-schedule.js';

/** A cron expression (UTC, 5 fields or 6 with seconds), checked when the config is read. */
const cronSchema = z.string().refine(
  (expression) => {
    try {
      checkCronExpression(expression, 'schedule');
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a cron expression (minute hour day month weekday, e.g. "0 2 * * *"), UTC' },
);

/**
 * Background work the fleet runs once per tick (docs/scale-out.md, src/app/background-job-kinds.ts); each is off
 * unless configured here (file only: these are nested settings).
 */
export const scheduledJobsSchema = z.strictObject({
  /** `discovery.run`: list every configured provider's keys (as `keyledger discover`). */
  discovery: z
    .strictObject({
      schedule: cronSchema,
      /** Providers to list (default every configured one). */
      providers: z.array(z.string().min(1)).min(1).optional(),
    })
    .optional(),
  /** `audit-log.ingest`: the files below `paths` not counted before (as `keyledger audit-log ingest`). */
  auditLogIngest: z
    .strictObject({
      schedule: cronSchema,
      /** Files and folders this server can read; relative ones from the server's working folder. */
      paths: z.array(z.string().min(1)).min(1),
      format: z.enum(['auto', ...BUILTIN_AUDIT_LOG_FORMATS]).default('auto'),
      /** A file modified more recently than this is left for a later tick (it may still be written). */
      minAgeSeconds: z.coerce.number().int().min(0).default(300),
    })
    .optional(),
});

export type ScheduledJobsConfig = z.output<typeof scheduledJobsSchema>;
