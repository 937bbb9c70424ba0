// The audit counters (README.md, "Audit"), in an in-process prom-client registry that the telemetry module can
// export or merge (as rotation-metrics.ts does). `key_id` is a registry id, never key material.
import { Counter, Registry } from 'prom-client';

export class AuditMetrics {
  readonly registry: Registry;
  /** The article's stolen-key signal: a revoked or rotated-out key used after its end. */
  readonly unauthorisedUse: Counter<'key_id'>;
  readonly recordsIngested: Counter<'format'>;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    this.unauthorisedUse = new Counter({
      name: 'api_key_unauthorized_use_detected_total',
      help: 'Audit-log records in which a revoked or rotated-out key was used after its end.',
      labelNames: ['key_id'],
      registers: [registry],
    });
    this.recordsIngested = new Counter({
      name: 'api_key_audit_log_records_ingested_total',
      help: 'Audit-log records read and enriched, by reader format.',
      labelNames: ['format'],
      registers: [registry],
    });
  }
}
