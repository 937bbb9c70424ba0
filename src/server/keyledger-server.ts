// The server: one Fastify instance over the one app (src/app/keyledger-app.ts, opened here once), every module of
// src/app/server-modules.ts registered on it, `/healthz` (the process answers) and `/readyz` (each module can
// serve), JSON logs through src/telemetry/logger.ts (pino, with its redaction), errors as RFC 9457 problems, and a
// graceful close: stop accepting, let requests in flight finish (up to `shutdownTimeoutMs`), close the modules,
// then the app.
import { createServer } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { type KeyledgerApp, type KeyledgerAppOptions, openKeyledgerApp } from '../app/keyledger-app.js';
import { serverModules } from '../app/server-modules.js';
import { ConfigError, KeyledgerError } from '../errors/keyledger-error.js';
import type { Clock } from '../runtime/clock.js';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { HttpProblem, PROBLEM_CONTENT_TYPE, problemFor, statusOf } from './problem-details.js';
import { checkReadiness, type ReadinessCheck } from './readiness.js';
import type { ServerConfig } from './server-config.js';
import type { ServerContext, ServerModule } from './server-module.js';

export interface KeyledgerServerOptions {
  config: ServerConfig;
  /** How to open the app; the server owns it and closes it last. */
  app: Omit<KeyledgerAppOptions, 'logger' | 'clock'>;
  clock: Clock;
  /** Default: JSON lines on stderr at `config.logLevel`. */
  logger?: Logger;
  /** Default: src/app/server-modules.ts. */
  modules?: readonly ServerModule[];
}

export interface KeyledgerServer {
  server: FastifyInstance;
  app: KeyledgerApp;
  /** Where it listens, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Stop accepting, finish what is in flight (bounded), close modules and the app. Safe to call twice. */
  close(): Promise<void>;
}

export async function createKeyledgerServer(options: KeyledgerServerOptions): Promise<KeyledgerServer> {
  const { config } = options;
  const logger =
    options.logger ?? createLogger({ level: config.logLevel, write: (line) => process.stderr.write(line) });
  // The port is known before the modules register: they build URLs from it (OIDC callbacks, SCIM locations).
  const port = config.port === 0 ? await freePort(config.host) : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const app = await openKeyledgerApp({ ...options.app, clock: options.clock, logger });
  const server = Fastify({
    // Typed as Fastify's base logger so the instance is the plain FastifyInstance modules are written against.
    loggerInstance: logger as unknown as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    // Keep-alive connections with nothing in flight are closed at once on close(); busy ones finish first.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });
  server.decorate('readinessChecks', new Map<string, ReadinessCheck[]>());
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const force = setTimeout(() => server.server.closeAllConnections(), config.shutdownTimeoutMs);
      force.unref();
      try {
        await server.close();
      } finally {
        clearTimeout(force);
        await app.close();
      }
    })();
    return closing;
  };
  try {
    server.setErrorHandler((error, request, reply) => {
      const status = statusOf(error);
      if (status >= 500) request.log.error(loggableError(error), 'request failed');
      return reply
        .code(status)
        .type(PROBLEM_CONTENT_TYPE)
        .send(JSON.stringify(problemFor(error, request.url.split('?')[0])));
    });
    server.setNotFoundHandler((request, reply) =>
      reply
        .code(404)
        .type(PROBLEM_CONTENT_TYPE)
        .send(
          JSON.stringify(
            problemFor(
              new HttpProblem(404, 'E_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
              request.url.split('?')[0],
            ),
          ),
        ),
    );
    server.get('/healthz', async () => ({ status: 'ok' }));
    server.get('/readyz', async (_request, reply) => {
      const report = await checkReadiness(server);
      return reply.code(report.ready ? 200 : 503).send({ status: report.ready ? 'ready' : 'not ready', ...report });
    });
    const context: ServerContext = { app, clock: options.clock, logger, publicUrl: config.publicUrl ?? url };
    for (const module of options.modules ?? serverModules) {
      await module.register(server, context);
      if (!server.readinessChecks.has(module.name)) server.readinessChecks.set(module.name, []);
      logger.info({ module: module.name }, 'module registered');
    }
    await server.listen({ host: config.host, port }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES' || error.code === 'EADDRNOTAVAIL')
        throw new ConfigError(
          `cannot listen on ${config.host}:${port} (${error.code}): choose another --host/--port (0 picks a free port)`,
          { code: 'E_SERVER_LISTEN', cause: error },
        );
      throw error;
    });
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
  logger.info({ url }, 'keyledger server listening');
  return { server, app, url, close };
}

/**
 * What the log keeps of a failed request's error: our errors' messages are written never to hold key material
 * (src/errors/keyledger-error.ts); anyone else's (a library, a driver) may echo what it was given, so only its
 * type, code and stack frames are kept.
 */
function loggableError(error: unknown): Record<string, unknown> {
  if (error instanceof KeyledgerError) return { code: error.code, error: error.message };
  const { name, code, stack } = error as { name?: unknown; code?: unknown; stack?: unknown };
  const frames = typeof stack === 'string' ? stack.split('\n').filter((line) => /^\s+at /.test(line)) : [];
  return { errorType: typeof name === 'string' ? name : 'unknown', ...(code ? { code } : {}), frames };
}

/** A port nobody listens on right now (the OS picks it), for `port: 0`. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port: 0 }, () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
