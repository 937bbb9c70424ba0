// Okta event hooks as a ServerModule at `/hooks/okta` (docs/offboarding.md): the one-time verification GET echoes
// `x-okta-verification-challenge` as `{"verification": ...}`; each POST carries `data.events[]`, whose departures
// and returns (okta-event-mapping.ts) are queued durably and answered at once, then applied to the directory
// (okta-hook-queue.ts). Every request must carry the header Okta was configured with (default Authorization),
// whose value `keyledger idp token create --source okta-event-hook` printed; it is checked in constant time.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { directoryFor } from '../../directory/directory-store.js';
import { verifyIdpCredential } from '../../directory/idp-credentials.js';
import type { Principal } from '../../server/access.js';
import type { ServerModule } from '../../server/server-module.js';
import { OKTA_SOURCE, statusEventOf } from './okta-event-mapping.js';
import { OktaHookQueue } from './okta-hook-queue.js';

export const OKTA_HOOK_PATH = '/hooks/okta';
const VERIFICATION_HEADER = 'x-okta-verification-challenge';

const OKTA_PRINCIPAL: Principal = {
  kind: 'identity-provider',
  subject: 'okta-event-hook',
  roles: [],
  teams: [],
  scopes: ['hooks:okta'],
};

export interface OktaEventHookModule extends ServerModule {
  /** Resolves once the processing started so far (after each delivery, at start) has finished. */
  whenIdle(): Promise<void>;
}

export function createOktaEventHookModule(options: { headerName?: string } = {}): OktaEventHookModule {
  const headerName = (options.headerName ?? 'authorization').toLowerCase();
  let queue: OktaHookQueue | undefined;
  return {
    name: 'okta-event-hook',
    whenIdle: async () => {
      await queue?.idle();
    },
    register: async (server, context) => {
      const db = context.app.operational.db;
      const hookQueue = new OktaHookQueue({
        db,
        directory: directoryFor(db, context.clock),
        clock: context.clock,
        onError: (error) => context.logger.error({ err: error }, 'Okta event-hook deliveries not yet processed'),
      });
      queue = hookQueue;

      const authorised = async (request: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
        const raw = request.headers[headerName];
        const value = typeof raw === 'string' ? raw.trim() : '';
        // Okta sends the configured secret as it was typed; an administrator may have typed `Bearer <secret>`.
        const secret = value.replace(/^bearer\s+/i, '');
        if (secret && (await verifyIdpCredential(db, 'okta-event-hook', secret))) {
          request.principal = OKTA_PRINCIPAL;
          return true;
        }
        await reply.code(401).send({
          error: { code: 'E_UNAUTHORISED', message: `the ${headerName} header does not carry the event hook's secret` },
        });
        return false;
      };

      server.get(OKTA_HOOK_PATH, async (request, reply) => {
        if (!(await authorised(request, reply))) return reply;
        const challenge = request.headers[VERIFICATION_HEADER];
        if (typeof challenge !== 'string' || challenge === '') {
          return reply
            .code(400)
            .send({ error: { code: 'E_NO_CHALLENGE', message: `the ${VERIFICATION_HEADER} header is missing` } });
        }
        return reply.code(200).send({ verification: challenge });
      });

      server.post(OKTA_HOOK_PATH, async (request, reply) => {
        if (!(await authorised(request, reply))) return reply;
        const events = (request.body as { data?: { events?: unknown } } | null)?.data?.events;
        if (!Array.isArray(events)) {
          return reply
            .code(400)
            .send({ error: { code: 'E_HOOK_BODY', message: 'an Okta event-hook delivery carries data.events[]' } });
        }
        const statusEvents = events.flatMap((event) => statusEventOf(event) ?? []);
        const queued = await hookQueue.enqueue(statusEvents);
        // Processed beside the answer, not before it: Okta waits 3 s at most and retries once on a timeout.
        void hookQueue.drain();
        return reply.code(200).send({ received: events.length, queued, source: OKTA_SOURCE });
      });

      // Deliveries a crash left unprocessed.
      server.addHook('onReady', async () => {
        void hookQueue.drain();
      });
    },
  };
}
