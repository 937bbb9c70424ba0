// The server and controller half of `keyledger start` (start.ts sets up the organisation): the HTTP server over the
// organisation's registry (the API and every module src/app/server-modules.ts lists) with a first admin credential
// — an admin API token printed once and kept in `<data folder>/admin-token` (0600), and the local admin password
// the dashboard's login page takes (its scrypt hash in `<data folder>/local-admin.json`, src/server/auth/local-admin.ts)
// — and the rotation controller on its schedule over the server's app (as `keyledger controller` runs it).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { createServerModules } from '../../app/server-modules.js';
import { parseSchedule } from '../../lifecycle/rotation/rotation-controller.js';
import type { Clock } from '../../runtime/clock.js';
import type { SecretValue } from '../../secrets/secret-value.js';
import { ApiTokens } from '../../server/auth/api-tokens.js';
import { createLocalAdmin } from '../../server/auth/local-admin.js';
import { createKeyledgerServer, type KeyledgerServer } from '../../server/keyledger-server.js';
import type { ServerConfig } from '../../server/server-config.js';
import { ControllerHeartbeat } from '../../telemetry/controller-heartbeat.js';
import type { Logger } from '../../telemetry/logger.js';
import type { OpenedOrganisation } from './start.js';

export const ADMIN_TOKEN_FILE_NAME = 'admin-token';
export const CONTROLLER_ACTOR = 'system:rotation-controller';

export interface StartedServer {
  running: KeyledgerServer;
  adminToken: { keyId: string; token: SecretValue; file: string };
  localAdmin: { email: string; password: SecretValue; file: string };
  schedule: string;
  /** Stops the controller (the step in flight finishes, its lease is given back), then the server. */
  stop(): Promise<void>;
}

export async function startServerAndController(
  opened: OpenedOrganisation,
  options: {
    config: ServerConfig;
    env: NodeJS.ProcessEnv;
    cwd: string;
    clock: Clock;
    logger: Logger;
    schedule: string;
  },
): Promise<StartedServer> {
  const schedule = parseSchedule(options.schedule);
  const { working } = opened;
  // `/metrics` reports the controller this process runs: its liveness and its in-process counters.
  const heartbeat = new ControllerHeartbeat();
  const registries: Registry[] = [];
  const running = await createKeyledgerServer({
    modules: createServerModules({
      heartbeat,
      registries,
      env: { ...options.env, ...opened.exports },
      cwd: options.cwd,
    }),
    config: options.config,
    app: { registryDir: working.registryDir, env: { ...options.env, ...opened.exports }, cwd: options.cwd },
    clock: options.clock,
    logger: options.logger,
  });
  const stopController = new AbortController();
  let controller: Promise<void> = Promise.resolve();
  const stop = async () => {
    stopController.abort();
    await controller;
    await running.close();
  };
  try {
    const admin = opened.working.sandbox.org!.people.find((person) => person.status === 'active');
    const created = await new ApiTokens(running.app, options.clock).create({
      team: admin?.team ?? 'platform',
      role: 'admin',
      scopes: ['*'],
      expiresInDays: 90,
      owner: admin?.email ?? opened.examples.activePerson ?? 'admin@keyledger.local',
      purpose: 'First admin API token of keyledger start',
      justification: 'the first admin credential of the sandbox organisation (keyledger start)',
      actor: 'system:start',
    });
    const tokenFile = join(working.dataDir, ADMIN_TOKEN_FILE_NAME);
    await writeFile(tokenFile, `${created.token.reveal()}\n`, { mode: 0o600 });
    const localAdmin = await createLocalAdmin(working.dataDir, options.clock());
    const services = running.app.rotation({ actor: CONTROLLER_ACTOR });
    registries.push(services.metrics.registry);
    controller = services.controller
      .runForever(schedule, {
        signal: stopController.signal,
        onRun: (run) =>
          options.logger.info(
            { at: run.at, due: run.due.length, done: run.report?.done, failed: run.report?.failed },
            'controller run',
          ),
      })
      .catch((error: unknown) => {
        options.logger.error({ error: (error as Error).message }, 'the rotation controller stopped');
      });
    heartbeat.keepAlive(options.clock, { signal: stopController.signal, running: controller });
    return {
      running,
      adminToken: { keyId: created.keyId, token: created.token, file: tokenFile },
      localAdmin,
      schedule,
      stop,
    };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}
