// Confirms through an HTTP endpoint of the consumer that reports the version it loaded: the confirmer's
// registration, read by consumers/consumer-confirmer-table.ts.
import type { ConsumerConfirmerRegistration } from '../consumer-confirmer-registration.js';
import { HttpProbeConfirmer } from './http-probe-confirmer.js';

export const httpProbeConfirmerRegistration: ConsumerConfirmerRegistration<'http'> = {
  kind: 'http',
  create: () => new HttpProbeConfirmer(),
};
