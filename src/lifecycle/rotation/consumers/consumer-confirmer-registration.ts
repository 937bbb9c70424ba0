// What a consumer confirmer's folder declares in its `index.ts` (the `probe.kind` it serves and how to build it),
// and the kinds consumer-confirmer-table.ts must cover: the table is a Record over ConsumerConfirmerKind, so a kind
// without a registration fails to compile — the shape of the provider table.
import type { Clock } from '../../../runtime/clock.js';
import type { ConsumerConfirmer } from './consumer-confirmer.js';

export type ConsumerConfirmerKind = 'command' | 'external-secret' | 'grace' | 'http';

export interface ConsumerConfirmerContext {
  clock: Clock;
  env: NodeJS.ProcessEnv;
}

export interface ConsumerConfirmerRegistration<Kind extends ConsumerConfirmerKind = ConsumerConfirmerKind> {
  kind: Kind;
  create(context: ConsumerConfirmerContext): ConsumerConfirmer;
}
