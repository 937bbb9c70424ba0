// Constants of the `internal` provider: the key format it mints and the limits it declares.
import type { ProviderCapabilities } from '../provider.js';
export const INTERNAL_PROVIDER_NAME = 'internal';
export const INTERNAL_DEFAULT_PREFIX = 'kl';
export const INTERNAL_ENVIRONMENTS = ['live', 'test', 'dev', 'stage', 'staging', 'prod'] as const;
/** Keys are verified locally: the limit is the database's, set high so bulk work is not paced needlessly. */
export const INTERNAL_RATE_LIMIT = { requests: 5_000, perSeconds: 1 } as const;

/** Everything, locally: keys are minted, listed, verified and revoked in the operational store. */
export const INTERNAL_CAPABILITIES: ProviderCapabilities = {
  create: true,
  list: true,
  verify: true,
  revoke: true,
  lastUsed: true,
  nativeRotate: false,
  manual: false,
};
