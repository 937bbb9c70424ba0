// Confirms a consumer fed by the External Secrets Operator (its ExternalSecret synced after the new version): the
// confirmer's registration, read by consumers/consumer-confirmer-table.ts.
import type { ConsumerConfirmerRegistration } from '../consumer-confirmer-registration.js';
import { ExternalSecretConfirmer } from './external-secret-confirmer.js';

export const externalSecretConfirmerRegistration: ConsumerConfirmerRegistration<'external-secret'> = {
  kind: 'external-secret',
  create: (context) => new ExternalSecretConfirmer(context.env),
};
