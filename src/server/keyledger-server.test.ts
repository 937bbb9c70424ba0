// The server around the modules: /healthz, /readyz from each module's checks (on both database engines), problem
// details for unknown routes and unexpected errors (whose message is not echoed), JSON logs without secrets, and a
// graceful close: a request in flight finishes, new connections are refused, the app is closed.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { GIT_TEST_ENV, makeRegistry } from '../registry/test-support/registry-fixtures.js';
import { systemClock } from '../runtime/clock.js';
import { createLogger } from '../telemetry/logger.js';
import { createKeyledgerServer } from './keyledger-server.js';
import { addReadinessCheck } from './readiness.js';
import { serverConfigSchema } from './server-config.js';
import type { ServerModule } from './server-module.js';

forEachBackend((backend) => {
  it('answers health and readiness, refuses unknown routes with a problem, and closes gracefully', async () => {
    const database = await backend.createDatabase();
    const registry = await makeRegistry({ 'keyledger.config.yaml': 'policy: {}\n' }, { git: true });
    const canary = `sk_live_${randomBytes(12).toString('hex')}`;
    let ready = false;
    let release: () => void = () => {};
    const slow: ServerModule = {
      name: 'slow',
      register: async (server, context) => {
        addReadinessCheck(server, 'slow', async () => {
          if (!ready) throw new Error('warming up');
        });
        server.get('/slow', async () => {
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          return { done: true, at: context.clock().toISOString() };
        });
        server.get('/boom', async (request) => {
          request.log.info({ token: canary }, 'about to fail');
          throw new Error(`library failure mentioning ${canary}`);
        });
      },
    };
    const logs: string[] = [];
    const env: NodeJS.ProcessEnv = {
      ...GIT_TEST_ENV,
      KEYLEDGER_DATA_DIR: join(registry, '.keyledger'),
      KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
      ...(database.options.databaseUrl ? { KEYLEDGER_DATABASE_URL: database.options.databaseUrl } : {}),
    };
    const running = await createKeyledgerServer({
      config: serverConfigSchema.parse({ port: 0, shutdownTimeoutMs: 5_000 }),
      app: { registryDir: registry, env, cwd: registry },
      clock: systemClock,
      logger: createLogger({ level: 'info', write: (line) => logs.push(line) }),
      modules: [slow],
    });
    try {
      expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${running.url}/healthz`)).json()).toEqual({ status: 'ok' });
      const notReady = await fetch(`${running.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ modules: { slow: { ready: false, error: 'warming up' } } });
      ready = true;
      expect((await fetch(`${running.url}/readyz`)).status).toBe(200);

      const missing = await fetch(`${running.url}/nowhere`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toContain('application/problem+json');
      expect(await missing.json()).toMatchObject({ code: 'E_ROUTE_NOT_FOUND', instance: '/nowhere' });
      const boom = await fetch(`${running.url}/boom`);
      expect(boom.status).toBe(500);
      const problem = await boom.text();
      expect(problem).not.toContain(canary);
      expect(JSON.parse(problem)).toMatchObject({ code: 'E_INTERNAL', status: 500 });

      // A second server on the same port is refused with a clear error, and leaves nothing open.
      const port = Number(new URL(running.url).port);
      await expect(
        createKeyledgerServer({
          config: serverConfigSchema.parse({ port }),
          app: { registryDir: registry, env, cwd: registry },
          clock: systemClock,
          logger: createLogger({ level: 'silent', write: () => {} }),
          modules: [],
        }),
      ).rejects.toMatchObject({ code: 'E_SERVER_LISTEN' });

      const inFlight = fetch(`${running.url}/slow`);
      await expect.poll(() => logs.some((line) => line.includes('"url":"/slow"'))).toBe(true);
      const closing = running.close();
      // New connections are refused while the request in flight is allowed to finish.
      await expect
        .poll(() =>
          fetch(`${running.url}/healthz`).then(
            () => 'answered',
            () => 'refused',
          ),
        )
        .toBe('refused');
      release();
      const finished = await inFlight;
      expect(finished.status).toBe(200);
      expect(await finished.json()).toMatchObject({ done: true });
      await closing;
      await expect(running.app.operational.db.selectFrom('events').selectAll().execute()).rejects.toThrow();
    } finally {
      await running.close();
      await rm(registry, { recursive: true, force: true });
    }
    const text = logs.join('\n');
    expect(text).toContain('"msg":"keyledger server listening"');
    expect(text).not.toContain(canary);
    for (const line of logs) expect(() => JSON.parse(line)).not.toThrow();
  });
});
