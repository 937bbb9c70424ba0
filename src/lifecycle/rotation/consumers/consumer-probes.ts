// Turns the `consumed_by` entries of a registry entry into probes: the `probe` object when one is given, an
// ExternalSecret when the entry names one, and a fixed grace period as the last resort.
import type { Consumer, KeyEntry } from '../../../registry/key-entry-schema.js';
import type { ConsumerProbe } from './consumer-confirmer.js';

export interface ConsumerProbeDefaults {
  /** Seconds a consumer without any probe is given to pick up the new version. */
  graceSeconds: number;
}

export function consumerProbes(entry: KeyEntry, defaults: ConsumerProbeDefaults): ConsumerProbe[] {
  return (entry.consumed_by ?? []).map((consumer) => probeFor(consumer, defaults));
}

export function consumerName(consumer: Consumer): string {
  if (typeof consumer === 'string') return consumer;
  const named =
    consumer.service ??
    consumer.external_secret ??
    consumer.kubernetes_secret ??
    consumer.github_actions_secret ??
    consumer.env_file ??
    consumer.host ??
    consumer.team;
  const namespace = consumer.namespace ? `${consumer.namespace}/` : '';
  return named ? `${namespace}${named}` : 'consumer';
}

function probeFor(consumer: Consumer, defaults: ConsumerProbeDefaults): ConsumerProbe {
  const name = consumerName(consumer);
  if (typeof consumer !== 'string') {
    const probe = consumer.probe as Record<string, unknown> | undefined;
    if (probe && typeof probe.kind === 'string') return { name, kind: probe.kind, settings: probe, consumer };
    if (consumer.external_secret) {
      return {
        name,
        kind: 'external-secret',
        settings: {
          name: consumer.external_secret,
          ...(consumer.namespace ? { namespace: consumer.namespace } : {}),
          ...(probe ?? {}),
        },
        consumer,
      };
    }
  }
  return { name, kind: 'grace', settings: { seconds: defaults.graceSeconds }, consumer };
}
