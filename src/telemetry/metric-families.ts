// The metric families `/metrics` serves, named for `promtool check metrics` (docs/metrics.md): base units
// (seconds, timestamps in seconds), counters ending in `_total`, gauges not. The article's own series names
// (`api_key_age_days`, `api_key_total`, `api_key_due_for_rotation_total`) are produced from these by the recording
// rules in deploy/prometheus/recording-rules.yaml. Per-key families are generators, written as they are read.

import type { KeyEntry } from '../registry/key-entry-schema.js';
import { rotationDueDate } from '../registry/policy/policy-rules.js';
import { parseInstant } from '../registry/registry-dates.js';
import type { MetricsReadings } from './metrics-sources.js';
import type { MetricFamily, Sample } from './prometheus-text.js';

/** Statuses whose keys are live: the per-key series cover these only (a revoked key has no age to watch). */
const LIVE_STATUSES = new Set(['active', 'rotating']);

export interface SnapshotFacts {
  /** When the controller last reported alive, if a controller runs here (src/telemetry/controller-heartbeat.ts). */
  controllerHeartbeat?: Date | undefined;
  /** How long the previous rebuild took, and when it finished. */
  lastRebuild?: { seconds: number; at: Date } | undefined;
  rebuildFailures: number;
}

export function metricFamilies(readings: MetricsReadings, facts: SnapshotFacts): MetricFamily[] {
  const nowSeconds = readings.now.getTime() / 1000;
  const live = readings.entries.filter((entry) => LIVE_STATUSES.has(entry.status));
  const families: MetricFamily[] = [
    {
      name: 'api_key_registered',
      help: 'Registered keys by provider, owning team and status.',
      type: 'gauge',
      samples: countKeys(readings.entries),
    },
    {
      name: 'api_key_age_seconds',
      help: 'Seconds since the key was last rotated (or created, if never rotated); live keys only.',
      type: 'gauge',
      samples: perKey(live, (entry) => {
        const since = parseInstant(entry.last_rotated ?? entry.created_at)?.date;
        return since ? nowSeconds - since.getTime() / 1000 : undefined;
      }),
    },
    {
      name: 'api_key_expiry_timestamp_seconds',
      help: 'When the key expires (Unix seconds); live keys with an expiration only.',
      type: 'gauge',
      samples: perKey(live, (entry) => seconds(parseInstant(entry.expiration)?.date)),
    },
    {
      name: 'api_key_rotation_due_timestamp_seconds',
      help: 'When the key is due for scheduled rotation (last rotation plus rotation_frequency_days, Unix seconds).',
      type: 'gauge',
      samples: perKey(live, (entry) => seconds(rotationDueDate(entry))),
    },
    {
      name: 'api_key_due_for_rotation',
      help: 'Keys due for rotation now, by trigger (schedule, expiry, owner-left, leak, manual, policy) and team.',
      type: 'gauge',
      samples: countDue(readings.due),
    },
    {
      name: 'api_key_rotation_success_total',
      help: 'Rotations that finished (new key current, old key revoked, registry updated), from the rotation journal.',
      type: 'counter',
      samples: readings.rotationSuccess.map((row) => ({ labels: { provider: row.provider }, value: row.count })),
    },
    {
      name: 'api_key_rotation_failure_total',
      help: 'Rotations that did not finish (rolled back or failed), by reason, from the rotation journal.',
      type: 'counter',
      samples: readings.rotationFailure.map((row) => ({ labels: { reason: row.reason }, value: row.count })),
    },
    {
      name: 'api_key_rotation_rollback_pending',
      help: 'Rotations rolling back now (retried with back-off until the new key is gone), by provider.',
      type: 'gauge',
      samples: readings.rollbackPending.map((row) => ({ labels: { provider: row.provider }, value: row.count })),
    },
    {
      name: 'api_key_secret_scanner_findings_total',
      help: 'Scanner findings attributed to a registered key and recorded as events, by repository and scanner.',
      type: 'counter',
      samples: readings.findingsRecorded.map((row) => ({
        labels: { repo: row.repo, scanner: row.scanner },
        value: row.count,
      })),
    },
    {
      name: 'api_key_secret_scanner_findings_pending',
      help: 'Scanner findings whose key has not been rotated or revoked since, by repository and scanner.',
      type: 'gauge',
      samples: readings.findingsPending.map((row) => ({
        labels: { repo: row.repo, scanner: row.scanner },
        value: row.count,
      })),
    },
    {
      name: 'api_key_unauthorized_use_detected_total',
      help: 'Audit-log records in which a revoked or rotated-out key was used after its end, by key.',
      type: 'counter',
      samples: readings.unauthorizedUse.map((row) => ({ labels: { key_id: row.keyId }, value: row.count })),
    },
    {
      name: 'keyledger_controller_heartbeat_timestamp_seconds',
      help: 'When the rotation controller last reported alive (Unix seconds); absent when no controller runs.',
      type: 'gauge',
      samples: facts.controllerHeartbeat ? [{ labels: {}, value: seconds(facts.controllerHeartbeat) ?? 0 }] : [],
    },
    {
      name: 'keyledger_metrics_snapshot_timestamp_seconds',
      help: 'When the values in this exposition were read (Unix seconds); the exposition is rebuilt on change.',
      type: 'gauge',
      samples: [{ labels: {}, value: nowSeconds }],
    },
    {
      name: 'keyledger_metrics_rebuild_duration_seconds',
      help: 'How long the previous rebuild of this exposition took.',
      type: 'gauge',
      samples: facts.lastRebuild ? [{ labels: {}, value: facts.lastRebuild.seconds }] : [],
    },
    {
      name: 'keyledger_metrics_rebuild_failures_total',
      help: 'Rebuilds of this exposition that failed (the previous exposition kept being served).',
      type: 'counter',
      samples: [{ labels: {}, value: facts.rebuildFailures }],
    },
  ];
  return families;
}

function seconds(date: Date | undefined): number | undefined {
  return date ? date.getTime() / 1000 : undefined;
}

/**
 * The labels every per-key series carries: the key's id and owning team (alerts escalate by team). The provider is
 * left to `api_key_registered`: at 100,000 keys each label on the per-key families costs megabytes a scrape.
 */
export function keyLabels(entry: KeyEntry): Record<string, string> {
  return { key_id: entry.key_id, ...(entry.owner_team ? { owner_team: entry.owner_team } : {}) };
}

function* perKey(entries: readonly KeyEntry[], value: (entry: KeyEntry) => number | undefined): Iterable<Sample> {
  for (const entry of entries) {
    const found = value(entry);
    if (found !== undefined && Number.isFinite(found)) yield { labels: keyLabels(entry), value: round(found) };
  }
}

/** Millisecond precision: a sample's text stays short at 100,000 series. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function countKeys(entries: readonly KeyEntry[]): Sample[] {
  const counts = new Map<string, Sample & { value: number }>();
  for (const entry of entries) {
    const labels = {
      provider: entry.scope?.provider ?? 'unknown',
      owner_team: entry.owner_team ?? '',
      status: entry.status,
    };
    const key = `${labels.provider}\u0000${labels.owner_team}\u0000${labels.status}`;
    const found = counts.get(key) ?? { labels: withoutEmpty(labels), value: 0 };
    found.value += 1;
    counts.set(key, found);
  }
  return [...counts.values()];
}

function countDue(due: MetricsReadings['due']): Sample[] {
  const counts = new Map<string, Sample & { value: number }>();
  for (const key of due) {
    const labels = { trigger: key.trigger, owner_team: key.entry.owner_team ?? '' };
    const id = `${labels.trigger}\u0000${labels.owner_team}`;
    const found = counts.get(id) ?? { labels: withoutEmpty(labels), value: 0 };
    found.value += 1;
    counts.set(id, found);
  }
  return [...counts.values()];
}

/** An empty label value means the label is absent (the exposition format's rule); leave it out. */
function withoutEmpty(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([, value]) => value !== ''));
}

/** The name of every family `/metrics` serves (for the dashboard and rules tests, and docs/metrics.md). */
export function exportedMetricNames(): string[] {
  const empty: MetricsReadings = {
    now: new Date(0),
    entries: [],
    due: [],
    rotationSuccess: [],
    rotationFailure: [],
    rollbackPending: [],
    findingsRecorded: [],
    findingsPending: [],
    unauthorizedUse: [],
  };
  return metricFamilies(empty, { rebuildFailures: 0 }).map((family) => family.name);
}
