// Okta event hooks on a real server over both engines: the one-time verification, the configured header checked,
// deliveries answered at once and applied after (durably: a delivery queued before a crash is applied when the
// module starts again), each event applied once however often Okta delivers it, out-of-order events not undoing
// newer ones.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { directoryFor } from '../../directory/directory-store.js';
import type { DirectoryPerson } from '../../directory/identity-source.js';
import { createIdpCredential } from '../../directory/idp-credentials.js';
import { type IdpTestServer, startIdpTestServer } from '../test-support/idp-test-server.js';
import { createOktaEventHookModule, type OktaEventHookModule } from './okta-event-hook-module.js';

const delivery = readFileSync(join(import.meta.dirname, 'fixtures', 'deactivate-delivery.json'), 'utf8');

/** The fixture with its one event changed as Okta's event-type catalogue describes another. */
function deliveryOf(events: Array<{ uuid: string; eventType: string; email: string; published?: string }>) {
  const body = JSON.parse(delivery);
  const template = body.data.events[0];
  body.data.events = events.map((event) => {
    const target =
      event.eventType === 'application.user_membership.remove'
        ? [
            { id: '0ua1', type: 'AppUser', alternateId: event.email, displayName: event.email },
            { id: '0oa1', type: 'AppInstance', alternateId: 'keyledger', displayName: 'keyledger' },
            { id: `00u-${event.email}`, type: 'User', alternateId: event.email, displayName: event.email },
          ]
        : [{ ...template.target[0], id: `00u-${event.email}`, alternateId: event.email }];
    return {
      ...template,
      uuid: event.uuid,
      eventType: event.eventType,
      published: event.published ?? template.published,
      target,
    };
  });
  return JSON.stringify(body);
}

forEachBackend((backend) => {
  describe('Okta event hooks', () => {
    let server: IdpTestServer;
    let hook: OktaEventHookModule;
    let secret: string;
    const departures: DirectoryPerson[] = [];

    beforeAll(async () => {
      hook = createOktaEventHookModule();
      server = await startIdpTestServer(backend, [hook]);
      secret = (
        await createIdpCredential(server.app.operational.db, 'okta-event-hook', { clock: server.clock, actor: 'test' })
      ).secret;
      directoryFor(server.app.operational.db, server.clock).onDeparture(async (person) => {
        departures.push(person);
      });
    });
    afterAll(() => server.close());

    const post = (body: string, authorization = secret) =>
      fetch(`${server.url}/hooks/okta`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body,
      });
    const person = (email: string) => directoryFor(server.app.operational.db, server.clock).find(email);

    it('answers the one-time verification with the challenge, only with the configured header', async () => {
      const ok = await fetch(`${server.url}/hooks/okta`, {
        headers: { authorization: secret, 'x-okta-verification-challenge': 'VFNaC4LSJpaV1Wg_8Fmh5iodLEcABLvIMMbNNkTO' },
      });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ verification: 'VFNaC4LSJpaV1Wg_8Fmh5iodLEcABLvIMMbNNkTO' });
      const wrong = await fetch(`${server.url}/hooks/okta`, {
        headers: { authorization: `${secret}0`, 'x-okta-verification-challenge': 'x' },
      });
      expect(wrong.status).toBe(401);
      expect(await wrong.text()).not.toContain(secret);
      const none = await fetch(`${server.url}/hooks/okta`, { headers: { 'x-okta-verification-challenge': 'x' } });
      expect(none.status).toBe(401);
    });

    it("replays Okta's deactivation delivery: answered at once, applied after, once however often delivered", async () => {
      const started = Date.now();
      const response = await post(delivery);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ received: 1, queued: 1 });
      await hook.whenIdle();
      expect(await person('leaver@example.com')).toMatchObject({
        status: 'deprovisioned',
        source: 'okta',
        externalId: '00u1xq2ke5Wea4Mvh1d7',
        statusChangedAt: '2026-12-07T08:33:21.000Z',
      });
      const again = await post(delivery);
      expect(await again.json()).toMatchObject({ received: 1, queued: 0 });
      await hook.whenIdle();
      expect(departures.filter((p) => p.email === 'leaver@example.com')).toHaveLength(1);
    });

    it('maps suspend, lock and removal from the app; ignores events that say nothing about a status', async () => {
      const response = await post(
        deliveryOf([
          { uuid: 'e-suspend', eventType: 'user.lifecycle.suspend', email: 'suspended@example.com' },
          { uuid: 'e-lock', eventType: 'user.account.lock', email: 'locked@example.com' },
          { uuid: 'e-app', eventType: 'application.user_membership.remove', email: 'removed@example.com' },
          { uuid: 'e-login', eventType: 'user.session.start', email: 'login@example.com' },
        ]),
      );
      expect(await response.json()).toMatchObject({ received: 4, queued: 3 });
      await hook.whenIdle();
      expect((await person('suspended@example.com'))?.status).toBe('suspended');
      expect((await person('locked@example.com'))?.status).toBe('suspended');
      expect((await person('removed@example.com'))?.status).toBe('deprovisioned');
      expect(await person('login@example.com')).toBeUndefined();
    });

    it('an older event delivered late does not undo a newer one', async () => {
      await post(
        deliveryOf([
          {
            uuid: 'late-2',
            eventType: 'user.lifecycle.deactivate',
            email: 'late@example.com',
            published: '2026-12-07T08:40:00.000Z',
          },
        ]),
      );
      await post(
        deliveryOf([
          {
            uuid: 'late-1',
            eventType: 'user.lifecycle.reactivate',
            email: 'late@example.com',
            published: '2026-12-07T08:30:00.000Z',
          },
        ]),
      );
      await hook.whenIdle();
      expect((await person('late@example.com'))?.status).toBe('deprovisioned');
    });

    it('refuses a delivery without the header or without data.events, queueing nothing', async () => {
      expect((await post(delivery, 'Bearer not-it')).status).toBe(401);
      const bad = await post('{"data":{}}');
      expect(bad.status).toBe(400);
      const rows = await server.app.operational.db.selectFrom('idp_hook_deliveries').selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain(secret);
    });
  });

  it('processes a delivery queued before a crash when the module starts again', async () => {
    const first = createOktaEventHookModule();
    const server = await startIdpTestServer(backend, [first]);
    try {
      const db = server.app.operational.db;
      // What a crash between the answer and the processing leaves: a queued row, nothing in the directory.
      await db
        .insertInto('idp_hook_deliveries')
        .values({
          event_id: 'queued-before-crash',
          source: 'okta',
          event_type: 'user.lifecycle.deactivate',
          email: 'crashed@example.com',
          status: 'deprovisioned',
          at: '2026-12-07T08:00:00.000Z',
          external_id: null,
          received_at: '2026-12-07T08:00:01.000Z',
          processed_at: null,
        })
        .execute();
      const restarted = createOktaEventHookModule();
      const Fastify = (await import('fastify')).default;
      const host = Fastify();
      host.decorateRequest('principal', undefined);
      await restarted.register(host, {
        app: server.app,
        clock: server.clock,
        logger: (await import('../../telemetry/logger.js')).createLogger({ level: 'silent', write: () => undefined }),
        publicUrl: 'https://keyledger.example.test',
      });
      await host.ready();
      await restarted.whenIdle();
      await host.close();
      expect((await directoryFor(db, server.clock).find('crashed@example.com'))?.status).toBe('deprovisioned');
      const row = await db
        .selectFrom('idp_hook_deliveries')
        .selectAll()
        .where('event_id', '=', 'queued-before-crash')
        .executeTakeFirst();
      expect(row?.processed_at).not.toBeNull();
    } finally {
      await server.close();
    }
  });
});
