// Every consumer confirmer, registered by its `probe.kind`. The rotation core asks this table and never imports a
// confirmer's folder. To add one: a folder consumers/<kind>/ with `<kind>-confirmer.ts` and `<kind>-schemas.ts`,
// and one line below.
import type { Clock } from '../../../runtime/clock.js';
import { CommandHookConfirmer } from './command-hook/command-hook-confirmer.js';
import type { ConsumerConfirmer } from './consumer-confirmer.js';
import { ExternalSecretConfirmer } from './external-secret/external-secret-confirmer.js';
import { GracePeriodConfirmer } from './grace-period/grace-period-confirmer.js';
import { HttpProbeConfirmer } from './http-probe/http-probe-confirmer.js';

export interface ConsumerConfirmerContext {
  clock: Clock;
  env: NodeJS.ProcessEnv;
}

export const consumerConfirmerTable: Readonly<
  Record<string, (context: ConsumerConfirmerContext) => ConsumerConfirmer>
> = {
  http: () => new HttpProbeConfirmer(),
  command: (context) => new CommandHookConfirmer(context.env),
  'external-secret': (context) => new ExternalSecretConfirmer(context.env),
  grace: (context) => new GracePeriodConfirmer(context.clock),
};

/** One confirmer of each kind, looked up by kind; an unknown kind is undefined (the rotation then fails clearly). */
export function createConsumerConfirmers(
  context: ConsumerConfirmerContext,
): (kind: string) => ConsumerConfirmer | undefined {
  const built = new Map<string, ConsumerConfirmer>();
  return (kind) => {
    if (!Object.hasOwn(consumerConfirmerTable, kind)) return undefined;
    let confirmer = built.get(kind);
    if (!confirmer) {
      confirmer = consumerConfirmerTable[kind]!(context);
      built.set(kind, confirmer);
    }
    return confirmer;
  };
}
