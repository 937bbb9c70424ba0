// Every consumer confirmer, registered by its `probe.kind`: each confirmer's folder declares its registration in
// its own `index.ts`, and the table is a Record over ConsumerConfirmerKind. The rotation core asks this table and
// never imports a confirmer's folder. To add one: a folder consumers/<kind>/ with `<kind>-confirmer.ts`,
// `<kind>-schemas.ts` and `index.ts`, its kind in consumer-confirmer-registration.ts, and one entry below.
import { commandHookConfirmerRegistration } from './command-hook/index.js';
import type { ConsumerConfirmer } from './consumer-confirmer.js';
import type {
  ConsumerConfirmerContext,
  ConsumerConfirmerKind,
  ConsumerConfirmerRegistration,
} from './consumer-confirmer-registration.js';
import { externalSecretConfirmerRegistration } from './external-secret/index.js';
import { gracePeriodConfirmerRegistration } from './grace-period/index.js';
import { httpProbeConfirmerRegistration } from './http-probe/index.js';

export type { ConsumerConfirmerContext, ConsumerConfirmerKind } from './consumer-confirmer-registration.js';

export const consumerConfirmerTable: Readonly<{
  [Kind in ConsumerConfirmerKind]: ConsumerConfirmerRegistration<Kind>;
}> = {
  command: commandHookConfirmerRegistration,
  'external-secret': externalSecretConfirmerRegistration,
  grace: gracePeriodConfirmerRegistration,
  http: httpProbeConfirmerRegistration,
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
      confirmer = consumerConfirmerTable[kind as ConsumerConfirmerKind].create(context);
      built.set(kind, confirmer);
    }
    return confirmer;
  };
}
