// A real Fastify server on an ephemeral port with identity-provider modules registered, over a real keyledger app
// (a git registry and an operational store on the backend the test gives). The server factory of
// src/server/keyledger-server.ts registers the same modules the same way; this is the smallest host for them.
import Fastify, { type FastifyInstance } from 'fastify';
import { type KeyledgerApp, openKeyledgerApp } from '../../app/keyledger-app.js';
import type { TestBackend } from '../../db/test-support/test-databases.js';
import { GIT_TEST_ENV, makeRegistry } from '../../registry/test-support/registry-fixtures.js';
import { type Clock, fixedClock } from '../../runtime/clock.js';
import type { ServerModule } from '../../server/server-module.js';
import { createLogger } from '../../telemetry/logger.js';

/** The public URL the modules are told they are reached at (SCIM's `meta.location`). */
export const PUBLIC_URL = 'https://keyledger.example.test';

export interface IdpTestServer {
  url: string;
  app: KeyledgerApp;
  server: FastifyInstance;
  clock: Clock & { advance(ms: number): void };
  /** What the server logged, one JSON line each (for canary scans). */
  logLines: string[];
  /** Where the registry and the operational store are: a second host opened with them is another replica. */
  shared: { registryDir: string; env: NodeJS.ProcessEnv };
  close(): Promise<void>;
}

/**
 * A new host on a fresh database and registry, or — given `replicaOf` — a second process's host over the same ones
 * (its own app, store connections and clock), as another replica of a fleet would be.
 */
export async function startIdpTestServer(
  backend: TestBackend,
  modules: ServerModule[],
  options: { replicaOf?: IdpTestServer } = {},
): Promise<IdpTestServer> {
  const clock = fixedClock('2026-12-07T09:00:00.000Z');
  let shared = options.replicaOf?.shared;
  if (!shared) {
    const database = await backend.createDatabase();
    const registryDir = await makeRegistry({ '.gitignore': '.keyledger/\n', 'keys/.gitkeep': '' }, { git: true });
    shared = {
      registryDir,
      env: {
        ...process.env,
        ...GIT_TEST_ENV,
        KEYLEDGER_DATA_DIR: database.options.dataDir,
        KEYLEDGER_DATABASE_URL: database.options.databaseUrl ?? '',
      },
    };
  }
  const { registryDir: registry, env } = shared;
  const app = await openKeyledgerApp({ registryDir: registry, env, cwd: registry, clock });
  const logLines: string[] = [];
  const logger = createLogger({ level: 'info', write: (line) => logLines.push(line) });
  const server = Fastify({ logger: false });
  server.decorateRequest('principal', undefined);
  const context = { app, clock, logger, publicUrl: PUBLIC_URL };
  for (const module of modules) await module.register(server, context);
  await server.listen({ port: 0, host: '127.0.0.1' });
  const address = server.server.address();
  const url = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : '';
  return {
    url,
    app,
    server,
    clock,
    logLines,
    shared,
    close: async () => {
      await server.close();
      await app.close();
    },
  };
}
