// In-process prom-client registries merged into `/metrics`: the counters only the running process knows, such as
// src/lifecycle/rotation/rotation-metrics.ts's tickets opened and rollbacks stuck, or src/audit/audit-metrics.ts's
// records ingested, when the process that runs the controller or the ingest also serves `/metrics`. A family the
// exposition already builds from the store (rotation success and failure, due keys, unauthorized use) is left out:
// the store counts every process's work, this registry only its own.
import type { Registry } from 'prom-client';
import type { MetricFamily, MetricType } from './prometheus-text.js';

export async function processFamilies(
  registries: readonly Registry[],
  alreadyBuilt: ReadonlySet<string>,
): Promise<MetricFamily[]> {
  const families: MetricFamily[] = [];
  const seen = new Set(alreadyBuilt);
  for (const registry of registries) {
    for (const metric of await registry.getMetricsAsJSON()) {
      // prom-client's JSON gives the type as its text name (its typings say an enum).
      const type = String(metric.type) as MetricType | 'histogram' | 'summary';
      if (seen.has(metric.name) || (type !== 'counter' && type !== 'gauge')) continue;
      seen.add(metric.name);
      families.push({
        name: metric.name,
        help: metric.help,
        type,
        samples: metric.values.map((value) => ({
          labels: Object.fromEntries(Object.entries(value.labels).map(([label, text]) => [label, String(text)])),
          value: value.value,
        })),
      });
    }
  }
  return families;
}

/** The registries' current values as text, for the exposition's change token. */
export async function registriesToken(registries: readonly Registry[]): Promise<string> {
  const values = await Promise.all(registries.map((registry) => registry.getMetricsAsJSON()));
  return JSON.stringify(values.map((metrics) => metrics.map((metric) => [metric.name, metric.values])));
}
