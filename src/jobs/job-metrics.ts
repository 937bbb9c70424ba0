// The fleet's gauges for `/metrics` (docs/metrics.md, docs/scale-out.md): replicas alive, jobs per kind and state,
// and jobs still leased to a replica that no longer beats. Read from the store at each scrape's rebuild, so every
// replica reports the whole fleet; a small prom-client registry the server merges (src/app/server-modules.ts).
import { Gauge, Registry } from 'prom-client';
import type { JobQueue } from './job-queue.js';
import type { ReplicaHeartbeats } from './replica-heartbeats.js';

export function createJobMetrics(queue: JobQueue, replicas: ReplicaHeartbeats): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'keyledger_replicas_alive',
    help: 'Replicas whose heartbeat is fresh, by whether they run a job worker.',
    labelNames: ['worker'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const replica of await replicas.list()) {
        if (replica.alive) this.inc({ worker: String(replica.worker) });
      }
    },
  });
  new Gauge({
    name: 'keyledger_jobs',
    help: 'Jobs in the queue by kind and state (queued, running, done, failed).',
    labelNames: ['kind', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await queue.counts()) this.set({ kind: row.kind, state: row.state }, row.count);
    },
  });
  new Gauge({
    name: 'keyledger_jobs_held_by_dead_replicas',
    help: 'Running jobs whose lease names a replica without a fresh heartbeat (taken over once the lease expires).',
    registers: [registry],
    async collect() {
      const alive = await replicas.aliveIds();
      const running = await queue.list({ states: ['running'], limit: 100_000 });
      this.set(running.filter((job) => job.lease_owner !== null && !alive.has(job.lease_owner)).length);
    },
  });
  return registry;
}
