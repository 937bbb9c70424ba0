// The sizes of generated organisations. `default` reproduces the orphaned-keys brief: a 110-person engineering
// company, three years old, ~1,200 keys, 280 without a clear owner, 65 belonging to people who left, some with
// admin scope. `small` is for tests; `100k` is the scale target of src/README.md's invariant 4.

export interface OrgProfile {
  name: 'small' | 'default' | '100k';
  /** People employed now. */
  people: number;
  /** People who have left (still named by keys and the directory). */
  leavers: number;
  teams: number;
  keys: number;
  /** Keys without a clear owner: unregistered ones plus registry entries that name no owner. */
  noClearOwner: number;
  /** Of those, keys with no registry entry at all (found only at the provider). */
  unregistered: number;
  /** Registered keys whose named owner has left. */
  ownerLeft: number;
  adminShare: number;
  sharedShare: number;
  /** Keys not used for more than 90 days (never-used ones included). */
  unusedShare: number;
  neverUsedShare: number;
  yearsOperating: number;
}

/** Keys per provider, as shares of the total (the default's 1,200 split across the adapters). */
export const PROVIDER_SHARES: ReadonlyArray<[provider: string, share: number]> = [
  ['aws-iam', 300],
  ['github', 220],
  ['gitlab', 160],
  ['gcp', 110],
  ['datadog', 90],
  ['openai', 70],
  ['azure', 60],
  ['cloudflare', 50],
  ['twilio', 40],
  ['sendgrid', 40],
  ['stripe', 30],
  ['slack', 30],
];

export const ORG_PROFILES: Record<OrgProfile['name'], OrgProfile> = {
  small: {
    name: 'small',
    people: 12,
    leavers: 4,
    teams: 3,
    keys: 48,
    noClearOwner: 11,
    unregistered: 8,
    ownerLeft: 3,
    adminShare: 0.08,
    sharedShare: 0.1,
    unusedShare: 0.2,
    neverUsedShare: 0.05,
    yearsOperating: 3,
  },
  default: {
    name: 'default',
    people: 110,
    leavers: 38,
    teams: 9,
    keys: 1200,
    noClearOwner: 280,
    unregistered: 200,
    ownerLeft: 65,
    adminShare: 0.06,
    sharedShare: 0.08,
    unusedShare: 0.18,
    neverUsedShare: 0.05,
    yearsOperating: 3,
  },
  '100k': {
    name: '100k',
    people: 6000,
    leavers: 2000,
    teams: 80,
    keys: 100_000,
    noClearOwner: Math.round((100_000 * 280) / 1200),
    unregistered: Math.round((100_000 * 200) / 1200),
    ownerLeft: Math.round((100_000 * 65) / 1200),
    adminShare: 0.06,
    sharedShare: 0.08,
    unusedShare: 0.18,
    neverUsedShare: 0.05,
    yearsOperating: 3,
  },
};
