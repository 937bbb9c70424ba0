// Confirms once a grace period has passed, for consumers that cannot be asked: the confirmer's registration, read
// by consumers/consumer-confirmer-table.ts.
import type { ConsumerConfirmerRegistration } from '../consumer-confirmer-registration.js';
import { GracePeriodConfirmer } from './grace-period-confirmer.js';

export const gracePeriodConfirmerRegistration: ConsumerConfirmerRegistration<'grace'> = {
  kind: 'grace',
  create: (context) => new GracePeriodConfirmer(context.clock),
};
