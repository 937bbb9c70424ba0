// Constants of the `internal` provider: the key format it mints and the limits it declares.
export const INTERNAL_PROVIDER_NAME = 'internal';
export const INTERNAL_DEFAULT_PREFIX = 'kl';
export const INTERNAL_ENVIRONMENTS = ['live', 'test', 'dev', 'stage', 'staging', 'prod'] as const;
/** Keys are verified locally: the limit is the database's, set high so bulk work is not paced needlessly. */
export const INTERNAL_RATE_LIMIT = { requests: 5_000, perSeconds: 1 } as const;
