// Confirms a consumer by running a command its owning team provides: the confirmer's registration, read by
// consumers/consumer-confirmer-table.ts.
import type { ConsumerConfirmerRegistration } from '../consumer-confirmer-registration.js';
import { CommandHookConfirmer } from './command-hook-confirmer.js';

export const commandHookConfirmerRegistration: ConsumerConfirmerRegistration<'command'> = {
  kind: 'command',
  create: (context) => new CommandHookConfirmer(context.env),
};
