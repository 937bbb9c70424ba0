// `/readyz` asks each module whether it can serve: a module adds a check with addReadinessCheck (a database ping,
// an index loaded, an identity provider reachable); a module that adds none is ready once registered.
import type { FastifyInstance } from 'fastify';

export type ReadinessCheck = () => Promise<void>;

declare module 'fastify' {
  interface FastifyInstance {
    /** Module name -> its readiness checks (src/server/readiness.ts). */
    readinessChecks: Map<string, ReadinessCheck[]>;
  }
}

export function addReadinessCheck(server: FastifyInstance, module: string, check: ReadinessCheck): void {
  const checks = server.readinessChecks.get(module) ?? [];
  checks.push(check);
  server.readinessChecks.set(module, checks);
}

export interface ReadinessReport {
  ready: boolean;
  modules: Record<string, { ready: boolean; error?: string }>;
}

export async function checkReadiness(server: FastifyInstance, timeoutMs = 2_000): Promise<ReadinessReport> {
  const modules: ReadinessReport['modules'] = {};
  await Promise.all(
    [...server.readinessChecks].map(async ([name, checks]) => {
      try {
        await Promise.all(checks.map((check) => withTimeout(check(), timeoutMs)));
        modules[name] = { ready: true };
      } catch (error) {
        modules[name] = { ready: false, error: (error as Error).message };
      }
    }),
  );
  return { ready: Object.values(modules).every((module) => module.ready), modules };
}

function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
