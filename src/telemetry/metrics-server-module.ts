// `/metrics` (docs/metrics.md): a ServerModule (src/server/server-module.ts) serving the Prometheus text
// exposition of the registry, the rotation journal, the scanner's findings and the audit anomalies, from a cache
// rebuilt on change off the request path (cached-exposition.ts). The module's context type names only what it
// reads (metrics-sources.ts says why it does not import src/server/ or src/app/); ServerContext fits it, which
// metrics-server-module.test.ts checks with `satisfies ServerModule`.
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Clock } from '../runtime/clock.js';
import { CachedExposition } from './cached-exposition.js';
import type { ControllerHeartbeat } from './controller-heartbeat.js';
import type { Logger } from './logger.js';
import { metricFamilies } from './metric-families.js';
import { type MetricsApp, readChangeToken, readMetrics } from './metrics-sources.js';
import { processFamilies, registriesToken } from './process-registries.js';
import { EXPOSITION_CONTENT_TYPE, renderExposition } from './prometheus-text.js';

export interface MetricsServerContext {
  app: MetricsApp;
  clock: Clock;
  logger: Logger;
}

export interface MetricsModuleOptions {
  /** The controller's liveness, beaten by the process that runs it (controller-heartbeat.ts). */
  heartbeat?: ControllerHeartbeat;
  /**
   * In-process registries to merge (the controller's RotationMetrics registry, an AuditMetrics registry); families
   * the store already gives are left out (process-registries.ts).
   */
  registries?: readonly Registry[];
  /** Where the exposition is served (default `/metrics`). */
  path?: string;
  checkEveryMs?: number;
  maxAgeMs?: number;
  /** Samples written between two yields to the event loop (prometheus-text.ts). */
  chunk?: number;
  /** Receives the cache, for tests and bench/metrics.ts to watch rebuilds. */
  onCache?: (cache: CachedExposition) => void;
}

export interface MetricsServerModule {
  readonly name: string;
  register(server: FastifyInstance, context: MetricsServerContext): Promise<void>;
}

export function createMetricsModule(options: MetricsModuleOptions = {}): MetricsServerModule {
  return {
    name: 'metrics',
    async register(server, context) {
      const cache = new CachedExposition({
        clock: context.clock,
        logger: context.logger,
        changeToken: async () =>
          `${await readChangeToken(context.app)}${await registriesToken(options.registries ?? [])}`,
        build: async (facts) => {
          const readings = await readMetrics(context.app, context.clock());
          const families = metricFamilies(readings, {
            controllerHeartbeat: options.heartbeat?.last(),
            lastRebuild: facts.lastRebuild,
            rebuildFailures: facts.rebuildFailures,
          });
          const merged = [
            ...families,
            ...(await processFamilies(options.registries ?? [], new Set(families.map((family) => family.name)))),
          ];
          return renderExposition(merged, options.chunk ? { chunk: options.chunk } : {});
        },
        ...(options.checkEveryMs !== undefined ? { checkEveryMs: options.checkEveryMs } : {}),
        ...(options.maxAgeMs !== undefined ? { maxAgeMs: options.maxAgeMs } : {}),
      });
      options.onCache?.(cache);
      cache.start();
      server.addHook('onClose', async () => cache.stop());
      server.get(options.path ?? '/metrics', async (request, reply) => {
        const exposition = await cache.current();
        reply.header('content-type', EXPOSITION_CONTENT_TYPE);
        reply.header('vary', 'accept-encoding');
        if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
          reply.header('content-encoding', 'gzip');
          return reply.send(exposition.gzipped);
        }
        return reply.send(exposition.text);
      });
    },
  };
}

/** The module with its defaults: what src/app/server-modules.ts lists (with a heartbeat where a controller runs). */
export const metricsModule: MetricsServerModule = createMetricsModule();
