// Every refused request is an event (issue 17: "every login, denial and action is an event"): who asked (the
// principal's subject, or `anonymous`), for what (method and route), and why. Never the credential itself.
import type { FastifyRequest } from 'fastify';
import type { EventLog } from '../../events/event-log.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Principal } from '../access.js';

export const ACCESS_DENIED_EVENT = 'access_denied';

export class AccessDenials {
  readonly #events: EventLog;
  readonly #logger: Logger;

  constructor(events: EventLog, logger: Logger) {
    this.#events = events;
    this.#logger = logger;
  }

  async record(
    request: FastifyRequest,
    principal: Principal | undefined,
    reason: string,
    keyId?: string,
  ): Promise<void> {
    const route = request.routeOptions.url ?? request.url.split('?')[0] ?? request.url;
    await this.#events.append({
      type: ACCESS_DENIED_EVENT,
      actor: principal ? actorOf(principal) : 'anonymous',
      ...(keyId ? { keyId } : {}),
      data: { method: request.method, route, reason, ...(principal ? { kind: principal.kind } : {}) },
    });
    this.#logger.warn({ method: request.method, route, reason, subject: principal?.subject }, 'access denied');
  }
}

/** The actor a principal's actions are recorded as: `token:<key_id>`, a person's email, `local-admin`. */
export function actorOf(principal: Principal): string {
  if (principal.kind === 'api-token') return `token:${principal.subject}`;
  return principal.email ?? `${principal.kind}:${principal.subject}`;
}
