// The rotation counters (docs/rotation.md), kept in a small in-process prom-client registry that a metrics
// module (telemetry/) can export or merge. One instance per process; tests make their own. Counters end in
// `_total`, gauges do not (Prometheus naming).
import { Counter, Gauge, Registry } from 'prom-client';

export class RotationMetrics {
  readonly registry: Registry;
  readonly success: Counter<'provider'>;
  readonly failure: Counter<'reason'>;
  readonly rolledBack: Counter<'reason'>;
  readonly due: Gauge<'trigger'>;
  readonly ticketsOpened: Counter<'sink'>;
  /** Rotations whose rollback (or promote) failed `maxAttempts` times and waits, as the journal holds them now. */
  readonly rollbackPending: Gauge<'provider'>;
  /** Rotations that became stuck so, counted once each. */
  readonly rollbackStuck: Counter<'provider'>;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    this.success = new Counter({
      name: 'api_key_rotation_success_total',
      help: 'Rotations that finished: new key current, old key revoked, registry updated.',
      labelNames: ['provider'],
      registers: [registry],
    });
    this.failure = new Counter({
      name: 'api_key_rotation_failure_total',
      help: 'Rotations that did not finish (rolled back or failed), by reason.',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.rolledBack = new Counter({
      name: 'api_key_rotation_rolled_back_total',
      help: 'Rotations rolled back with the old key left current, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.due = new Gauge({
      name: 'api_key_due_for_rotation',
      help: 'Keys due for rotation at the last due check, by trigger.',
      labelNames: ['trigger'],
      registers: [registry],
    });
    this.ticketsOpened = new Counter({
      name: 'api_key_rotation_tickets_opened_total',
      help: 'Rotation tickets opened for providers without an issuance API.',
      labelNames: ['sink'],
      registers: [registry],
    });
    this.rollbackPending = new Gauge({
      name: 'api_key_rotation_rollback_pending',
      help: 'Rotations stuck unfinished (a rollback or promote that keeps failing), retried with back-off, by provider.',
      labelNames: ['provider'],
      registers: [registry],
    });
    this.rollbackStuck = new Counter({
      name: 'api_key_rotation_rollback_stuck_total',
      help: 'Rotations whose rollback or promote failed maxAttempts times and now wait for a fix, by provider.',
      labelNames: ['provider'],
      registers: [registry],
    });
  }

  /** The value of a counter or gauge for one label set (0 when never touched); for tests and reports. */
  async value(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = await this.registry.getSingleMetric(name)?.get();
    const found = metric?.values.find((sample) =>
      Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    );
    return found?.value ?? 0;
  }
}
