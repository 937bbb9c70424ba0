// Faults a test or bench injects into a sandbox server per operation: an error status, a rate-limit answer with
// Retry-After, a request that never gets an answer, a slow answer, or a dropped connection.
import { z } from 'zod';

export const sandboxFaultSchema = z.object({
  /** The operation the fault applies to (`iam:CreateAccessKey`, `github:GET /user`...), or `*` for any. */
  operation: z.string().min(1).default('*'),
  kind: z.enum(['status', 'rate-limit', 'timeout', 'slow', 'drop']),
  /** For `status`: the HTTP status (a 5xx usually). For `rate-limit`: overrides the provider's own status. */
  status: z.number().int().min(100).max(599).optional(),
  /** For `rate-limit`: the Retry-After value in seconds. */
  retryAfterSeconds: z.number().min(0).optional(),
  /** How Retry-After is written: delta-seconds or an HTTP date. */
  retryAfterFormat: z.enum(['seconds', 'http-date']).default('seconds'),
  /** For `slow` and `timeout`: how long to hold the request (a `timeout` is then dropped). */
  delayMs: z.number().int().min(0).optional(),
  /** How many matching requests the fault hits; -1 for all of them until cleared. */
  times: z.number().int().min(-1).default(1),
  /** For `status`: echo the caller's credential into the error body, as a careless provider might (canary tests). */
  echoSecret: z.boolean().default(false),
});

export type SandboxFault = z.output<typeof sandboxFaultSchema>;
export type SandboxFaultInput = z.input<typeof sandboxFaultSchema>;

export class SandboxFaultTable {
  #faults: SandboxFault[] = [];

  add(fault: SandboxFaultInput): SandboxFault {
    const parsed = sandboxFaultSchema.parse(fault);
    this.#faults.push(parsed);
    return parsed;
  }

  clear(): void {
    this.#faults = [];
  }

  list(): SandboxFault[] {
    return [...this.#faults];
  }

  /** The first fault matching `operation`, consumed once. */
  take(operation: string): SandboxFault | undefined {
    const index = this.#faults.findIndex((fault) => fault.operation === '*' || fault.operation === operation);
    if (index < 0) return undefined;
    const fault = this.#faults[index]!;
    if (fault.times > 0) {
      fault.times -= 1;
      if (fault.times === 0) this.#faults.splice(index, 1);
    }
    return fault;
  }
}
