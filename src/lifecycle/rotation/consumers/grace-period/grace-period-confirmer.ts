// The last resort: a consumer nobody can ask is assumed to have reloaded its secret once a fixed grace period has
// passed since the new version was stored (its refresh interval plus a margin, set by the owning team).
import type { Clock } from '../../../../runtime/clock.js';
import type {
  ConfirmationStatus,
  ConsumerConfirmer,
  ConsumerProbe,
  ExpectedKeyVersion,
} from '../consumer-confirmer.js';
import { gracePeriodSettingsSchema } from './grace-period-schemas.js';

export class GracePeriodConfirmer implements ConsumerConfirmer {
  readonly kind = 'grace';
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async check(consumer: ConsumerProbe, expected: ExpectedKeyVersion): Promise<ConfirmationStatus> {
    const parsed = gracePeriodSettingsSchema.safeParse(consumer.settings);
    if (!parsed.success)
      return { state: 'failed', detail: `${consumer.name}: probe.seconds: ${parsed.error.issues[0]!.message}` };
    const elapsed = (this.#clock().getTime() - expected.storedAt.getTime()) / 1000;
    return elapsed >= parsed.data.seconds
      ? { state: 'confirmed', detail: `${consumer.name}: grace period of ${parsed.data.seconds}s passed` }
      : {
          state: 'waiting',
          detail: `${consumer.name}: grace period, ${Math.ceil(parsed.data.seconds - elapsed)}s left`,
        };
  }
}
