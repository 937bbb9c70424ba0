// Generates an organisation deterministically from a seed: people (with leavers and their leaving dates), teams,
// and keys across providers — some registered and some not, some shared between teams, some with admin scope,
// some unused for months — with the profile's counts exact by construction (ownership classes are dealt, not drawn).
import { awsKeyHomeAddress } from '../providers/aws-iam/aws-iam-home-address.js';
import { generateAwsAccessKey } from '../providers/aws-iam/aws-iam-key-format.js';
import { KEY_FORMATS } from './org-key-formats.js';
import type { Organisation, OrgKey, OrgPerson, OrgSummary } from './org-model.js';
import { ORG_PROFILES, type OrgProfile, PROVIDER_SHARES } from './org-profiles.js';
import { SeededRandom } from './seeded-random.js';

const DAY_MS = 86_400_000;
const FIRST_NAMES = [
  'alice',
  'bruno',
  'chen',
  'dana',
  'emeka',
  'fatima',
  'george',
  'hana',
  'ivan',
  'julia',
  'kofi',
  'lena',
  'mateo',
  'nina',
  'omar',
  'priya',
  'quinn',
  'rosa',
  'sam',
  'tariq',
  'uma',
  'victor',
  'wen',
  'ximena',
  'yusuf',
  'zoe',
  'aaron',
  'bea',
  'carlos',
  'dmitri',
  'elif',
  'felix',
  'greta',
  'hugo',
  'ines',
  'jonas',
  'kai',
  'lucia',
  'marek',
  'noor',
  'oskar',
  'paula',
];
const LAST_NAMES = [
  'smith',
  'garcia',
  'nguyen',
  'okafor',
  'kowalski',
  'rossi',
  'tanaka',
  'muller',
  'silva',
  'haddad',
  'johansson',
  'patel',
  'kim',
  'dubois',
  'novak',
  'mensah',
  'lopez',
  'chen',
  'ivanova',
  'murphy',
  'yilmaz',
  'fischer',
  'costa',
  'sato',
  'ali',
  'berg',
  'moreau',
  'singh',
  'walker',
  'hansen',
  'petrov',
  'romero',
  'lee',
  'schmidt',
  'abe',
  'nielsen',
  'reyes',
  'wright',
];
const TEAM_NAMES = [
  'payments',
  'platform',
  'search',
  'data',
  'mobile',
  'web',
  'infra',
  'security',
  'growth',
  'recommendations',
  'chat',
  'billing',
];
const REPO_SUFFIXES = ['api', 'web', 'worker', 'infra', 'jobs'];
/**
 * What a key is for, by provider and, where one provider issues several kinds, by kind (`<provider>:<kind>`): the
 * name must not say what the adapter would contradict — a GitHub key named "deploy" is a deploy key, a Slack
 * "webhook" an incoming webhook, an OpenAI "bot" a service account's key (the kinds are those of the adapters' capabilities().kinds).
 */
const PURPOSES: Record<string, string[]> = {
  'aws-iam': ['s3-uploads', 'deploy', 'backups', 'sqs-consumer', 'athena-reports', 'local-dev'],
  'github:deploy-key': ['deploy', 'docs-sync', 'submodule-pull'],
  'github:fine-grained-pat': ['ci', 'release-bot', 'renovate', 'backport'],
  'github:classic-pat': ['ci-legacy', 'release-bot', 'backport'],
  gitlab: ['ci', 'registry-pull', 'mirror', 'release', 'terraform-state'],
  gcp: ['bigquery-export', 'gcs-sync', 'pubsub', 'vertex'],
  azure: ['graph-sync', 'ad-sso', 'blob-backup'],
  'datadog:api-key': ['agent', 'ci-metrics', 'log-shipper'],
  'datadog:application-key': ['terraform', 'synthetics', 'dashboards'],
  'openai:service-account-key': ['support-bot', 'summaries', 'embeddings'],
  'openai:project-api-key': ['hackathon', 'notebooks', 'prototype'],
  cloudflare: ['dns-terraform', 'cache-purge', 'workers-deploy'],
  twilio: ['sms-otp', 'voice-alerts', 'incident-sms'],
  sendgrid: ['transactional', 'newsletters', 'alerts'],
  stripe: ['checkout', 'billing-sync', 'reporting'],
  'slack:incoming-webhook': ['deploy-webhook', 'incident-webhook', 'alerts-webhook'],
  'slack:bot-token': ['standup-bot', 'triage-bot', 'notifier-bot'],
};

export interface GenerateOrgOptions {
  profile?: OrgProfile['name'] | OrgProfile;
  seed?: number;
  /** The organisation's "today"; keys' dates are placed before it. */
  now?: Date | string;
  name?: string;
}

type OwnershipClass = 'unregistered' | 'registered-no-owner' | 'owner-left' | 'owned';

/** Splits `total` over weighted parts so that the parts add up to exactly `total` (largest remainder). */
function apportion(total: number, weights: ReadonlyArray<[string, number]>): Map<string, number> {
  const sum = weights.reduce((acc, [, w]) => acc + w, 0);
  const exact = weights.map(([name, w]) => [name, (total * w) / sum] as const);
  const result = new Map(exact.map(([name, value]) => [name, Math.floor(value)]));
  let remaining = total - [...result.values()].reduce((a, b) => a + b, 0);
  const byRemainder = [...exact].sort((a, b) => (b[1] % 1) - (a[1] % 1));
  for (const [name] of byRemainder) {
    if (remaining-- <= 0) break;
    result.set(name, result.get(name)! + 1);
  }
  return result;
}

function dealt<T extends string>(counts: ReadonlyArray<[T, number]>, random: SeededRandom): T[] {
  const items: T[] = [];
  for (const [name, count] of counts) for (let i = 0; i < count; i++) items.push(name);
  return random.shuffle(items);
}

function isoDay(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

export function generateOrg(options: GenerateOrgOptions = {}): Organisation {
  const profile = typeof options.profile === 'object' ? options.profile : ORG_PROFILES[options.profile ?? 'default'];
  const seed = options.seed ?? 1;
  const random = new SeededRandom(seed);
  const nowMs = new Date(options.now ?? '2026-11-23T00:00:00Z').getTime();
  const startMs = nowMs - profile.yearsOperating * 365 * DAY_MS;
  const orgName = options.name ?? 'acme';
  const domain = `${orgName}.example`;

  const teams = TEAM_NAMES.slice(0, Math.min(profile.teams, TEAM_NAMES.length));
  for (let i = teams.length; i < profile.teams; i++) teams.push(`team-${i + 1}`);
  const repositories: Record<string, string[]> = {};
  teams.forEach((team, index) => {
    repositories[team] = REPO_SUFFIXES.slice(0, 2 + (index % 3)).map((suffix) => `${team}-${suffix}`);
  });
  const projectIds: Record<string, number[]> = {};
  teams.forEach((team, index) => {
    projectIds[team] = [index * 3 + 1, index * 3 + 2, index * 3 + 3];
  });

  // People: current staff, then leavers; every team has at least one active member.
  const people: OrgPerson[] = [];
  const usedEmails = new Set<string>();
  const total = profile.people + profile.leavers;
  for (let i = 0; i < total; i++) {
    const first = random.pick(FIRST_NAMES);
    const last = random.pick(LAST_NAMES);
    let login = `${first}.${last}`;
    for (let n = 2; usedEmails.has(login); n++) login = `${first}.${last}${n}`;
    usedEmails.add(login);
    const left = i >= profile.people;
    const joinedMs = startMs + random.next() * (nowMs - startMs - 120 * DAY_MS);
    const person: OrgPerson = {
      email: `${login}@${domain}`,
      name: `${capitalise(first)} ${capitalise(last)}`,
      login,
      team: i < teams.length ? teams[i]! : random.pick(teams),
      status: left ? 'left' : 'active',
      joinedAt: isoDay(joinedMs),
      userNumber: 100 + i,
    };
    if (left)
      person.leftAt = isoDay(joinedMs + 60 * DAY_MS + random.next() * (nowMs - 14 * DAY_MS - joinedMs - 60 * DAY_MS));
    people.push(person);
  }
  const active = people.filter((p) => p.status === 'active');
  const leavers = people.filter((p) => p.status === 'left');
  const activeByTeam = new Map(teams.map((team) => [team, active.filter((p) => p.team === team)]));

  const providers = dealt([...apportion(profile.keys, PROVIDER_SHARES)], random);
  const classes = dealt<OwnershipClass>(
    [
      ['unregistered', profile.unregistered],
      ['registered-no-owner', profile.noClearOwner - profile.unregistered],
      ['owner-left', profile.ownerLeft],
      ['owned', profile.keys - profile.noClearOwner - profile.ownerLeft],
    ],
    random,
  );

  const keys: OrgKey[] = [];
  /** Each key's category were it not shared: what an unshared key is (plantSharedUses). */
  const ownCategory = new Map<OrgKey, OrgKey['category']>();
  const keyIdCounters = new Map<string, number>();
  const awsKeysPerUser = new Map<string, number>();
  /** A GCP service account's first key: the account's roles, which its later keys hold too. */
  const gcpFirstKeyOf = new Map<string, { admin: boolean; permissions: string[] }>();
  for (let i = 0; i < profile.keys; i++) {
    const provider = providers[i]!;
    const ownership = classes[i]!;
    // Who made it: a leaver for owner-left keys; anyone (a third of them since gone) for keys nobody owns.
    const creator =
      ownership === 'owner-left'
        ? random.pick(leavers)
        : ownership === 'owned'
          ? random.pick(active)
          : random.chance(0.3) && leavers.length
            ? random.pick(leavers)
            : random.pick(active);
    const team = creator.team;
    let admin = random.chance(ownership === 'owned' ? profile.adminShare * 0.7 : profile.adminShare * 1.8);
    const service = random.chance(0.55);
    const shared = random.chance(ownership === 'owned' ? profile.sharedShare * 0.8 : profile.sharedShare * 1.5);
    const format = KEY_FORMATS[provider]!({
      random,
      ordinal: i + 1,
      team,
      login: creator.login,
      userNumber: creator.userNumber,
      org: orgName,
      admin,
      service,
      repositories: repositories[team]!,
      projectIds: projectIds[team]!,
      groupId: teams.indexOf(team) + 1,
    });
    if (provider === 'aws-iam') {
      // IAM allows two keys per user, and rotating one needs room for its successor: a person's second key lives
      // on a second user of theirs (`alice.smith-2`), so every user holds one key and can be rotated.
      const held = awsKeysPerUser.get(format.account) ?? 0;
      awsKeysPerUser.set(format.account, held + 1);
      if (held >= 1) format.account = `${format.account}-${held + 1}`;
    }
    if (provider === 'gcp') {
      // Google grants roles to the service account, not to a key (the adapter reads them from the project's IAM
      // policy): a person's second key on their account has the first one's roles, and is admin as it is. The draw
      // above still happens, so the organisation's other keys stay as they were.
      const first = gcpFirstKeyOf.get(format.account);
      if (first) {
        admin = first.admin;
        format.permissions = [...first.permissions];
      } else gcpFirstKeyOf.set(format.account, { admin, permissions: format.permissions });
    }
    const joined = Date.parse(creator.joinedAt);
    const until = creator.leftAt ? Date.parse(creator.leftAt) : nowMs - DAY_MS;
    const createdMs = joined + random.next() * Math.max(DAY_MS, until - joined);
    const usage = random.next();
    let lastUsedMs: number | null;
    if (usage < profile.neverUsedShare) lastUsedMs = null;
    else if (usage < profile.unusedShare) lastUsedMs = Math.max(createdMs, nowMs - (91 + random.next() * 600) * DAY_MS);
    else lastUsedMs = Math.max(createdMs, nowMs - random.next() * 30 * DAY_MS);
    if (lastUsedMs !== null && lastUsedMs < createdMs) lastUsedMs = createdMs;
    const consumers = shared
      ? [
          team,
          ...random.shuffle(teams.filter((t) => t !== team)).slice(0, random.int(1, Math.min(3, teams.length - 1))),
        ]
      : [team];
    const purpose = random.pick(PURPOSES[`${provider}:${format.kind}`] ?? PURPOSES[provider] ?? ['integration']);
    const prefix = `${team}-${provider}-${purpose}`;
    const ordinal = (keyIdCounters.get(prefix) ?? 0) + 1;
    keyIdCounters.set(prefix, ordinal);
    const keyId = `${prefix}-${String(ordinal).padStart(3, '0')}`;
    // Where the provider expires keys itself, a key still in the organisation has not expired there yet (Azure client
    // secrets last at most two years).
    const providerLifetimeDays = provider === 'azure' ? 730 : 365;
    const expiresMs =
      provider === 'gitlab' || provider === 'azure' || (provider === 'github' && format.kind === 'fine-grained-pat')
        ? Math.max(createdMs + providerLifetimeDays * DAY_MS, nowMs + random.int(10, 300) * DAY_MS)
        : undefined;
    const key: OrgKey = {
      keyId,
      provider,
      kind: format.kind,
      account: format.account,
      providerKeyId: format.providerKeyId,
      secret: format.secret,
      ...(format.publicKey ? { publicKey: format.publicKey } : {}),
      name: `${team}-${purpose}`,
      description: `${purpose.replace(/-/g, ' ')} for ${team}`,
      createdBy: creator.email,
      // A token made for a service is held by the team's machine user, not by the person who set it up.
      ...(provider === 'github' && format.kind !== 'deploy-key' && format.category === 'shared-service-account'
        ? { holder: `${orgName}-${team}-bot` }
        : {}),
      team,
      consumers,
      permissions: format.permissions,
      admin,
      createdAt: isoDay(createdMs),
      lastUsedAt: lastUsedMs === null ? null : isoDay(lastUsedMs),
      ...(expiresMs !== undefined ? { expiresAt: isoDay(expiresMs) } : {}),
      category: shared ? 'shared-service-account' : format.category,
      registered: ownership !== 'unregistered',
      noClearOwner: ownership === 'unregistered' || ownership === 'registered-no-owner',
      ownerLeft: ownership === 'owner-left',
      unusedDays: lastUsedMs === null ? null : Math.floor((nowMs - lastUsedMs) / DAY_MS),
    };
    ownCategory.set(key, format.category);
    if (format.material) defineLazyMaterial(key, format.material);
    if (ownership === 'owner-left' || ownership === 'owned') {
      key.registryOwnerIndividual = creator.email;
      key.registryOwnerTeam = team;
      // Some owned keys name a teammate rather than the creator (who may have moved on within the team).
      if (ownership === 'owned' && random.chance(0.2)) {
        const mates = activeByTeam.get(team) ?? [];
        if (mates.length) key.registryOwnerIndividual = random.pick(mates).email;
      }
    }
    keys.push(key);
  }

  plantRevokedUses(keys);
  plantStrayUses(keys);
  plantRotatedOutUses(keys, seed);
  plantSharedUses(keys, teams, ownCategory);

  const byProvider: Record<string, number> = {};
  for (const key of keys) byProvider[key.provider] = (byProvider[key.provider] ?? 0) + 1;
  const summary: OrgSummary = {
    profile: profile.name,
    seed,
    now: isoDay(nowMs),
    people: active.length,
    leavers: leavers.length,
    teams: teams.length,
    keys: keys.length,
    noClearOwner: keys.filter((k) => k.noClearOwner).length,
    unregistered: keys.filter((k) => !k.registered).length,
    ownerLeft: keys.filter((k) => k.ownerLeft).length,
    adminScope: keys.filter((k) => k.admin).length,
    sharedBetweenTeams: keys.filter((k) => k.consumers.length > 1).length,
    unused90Days: keys.filter((k) => k.unusedDays === null || k.unusedDays > 90).length,
    neverUsed: keys.filter((k) => k.lastUsedAt === null).length,
    byProvider,
  };
  return { name: orgName, domain, summary, teams, repositories, people, keys };
}

/** Of the IAM keys eligible for a planted revoked-but-used entry, one in this many (at least one). */
const REVOKED_USE_EVERY = 20;

/**
 * Audit-log anomalies to be found (issue 15): entries the registry marks `revoked` whose IAM key was never deleted
 * and was used since. Taken from the end of the organisation (tests and benches that pick "the first AWS key" keep
 * theirs), among keys that are otherwise plain — owned by a current person, one team, not admin, used within 30
 * days — so that each shows only this one finding.
 */
function plantRevokedUses(keys: OrgKey[]): void {
  const eligible = keys.filter(
    (key) =>
      key.provider === 'aws-iam' &&
      key.registered &&
      !key.noClearOwner &&
      !key.ownerLeft &&
      !key.admin &&
      key.consumers.length === 1 &&
      key.unusedDays !== null &&
      key.unusedDays < 30,
  );
  const count = Math.ceil(eligible.length / REVOKED_USE_EVERY);
  for (const key of eligible.slice(eligible.length - count)) key.registryStatus = 'revoked';
}

/** Of the registered IAM keys that get used, every this many has a stolen copy in use elsewhere. */
const STRAY_USE_EVERY = 4;

/**
 * Audit-log anomalies to be found (issue 15): each registered IAM key in use declares where it is used from (its
 * home address in the sandbox's CloudTrail, awsKeyHomeAddress), and every STRAY_USE_EVERY-th of them, first
 * included, is also used from an address in TEST-NET-2 (198.51.100.0/24) — outside what its entry declares. Chosen
 * by position, not by the random stream, so that every other key of an organisation stays as it was.
 */
function plantStrayUses(keys: OrgKey[]): void {
  let used = 0;
  for (const key of keys) {
    if (key.provider !== 'aws-iam' || !key.registered || key.lastUsedAt === null || key.registryStatus) continue;
    key.expectedSources = [`${awsKeyHomeAddress(key.providerKeyId)}/32`];
    if (used % STRAY_USE_EVERY === 0) key.strayUseFrom = `198.51.100.${((used / STRAY_USE_EVERY) % 254) + 1}`;
    used += 1;
  }
}

/** Of the IAM keys eligible for a planted rotation with a later use of the key it replaced, one in this many. */
const ROTATED_OUT_USE_EVERY = 8;

/**
 * Audit-log anomalies to be found (issue 15): keys keyledger rotated — the current key is the successor its rotation
 * minted when the key was created, the replaced key was revoked then — and the replaced key was used afterwards
 * (refused by the provider, recorded in its audit log). Taken from the end of the organisation among keys that are
 * otherwise plain and show no other planted anomaly, with at least two days between the rotation and the
 * successor's last use, so that the replaced key's later use falls between the two and the entry's last use stays
 * its current key's. The replaced keys' ids come from their own seeded stream, so no other key changes.
 */
function plantRotatedOutUses(keys: OrgKey[], seed: number): void {
  const eligible = keys.filter(
    (key) =>
      key.provider === 'aws-iam' &&
      key.registered &&
      !key.noClearOwner &&
      !key.ownerLeft &&
      !key.admin &&
      key.consumers.length === 1 &&
      !key.registryStatus &&
      !key.strayUseFrom &&
      key.lastUsedAt !== null &&
      key.unusedDays !== null &&
      key.unusedDays < 30 &&
      Date.parse(key.lastUsedAt) - Date.parse(key.createdAt) >= 2 * DAY_MS,
  );
  const count = Math.ceil(eligible.length / ROTATED_OUT_USE_EVERY);
  const random = new SeededRandom(seed ^ 0x0f1e2d3c);
  eligible.slice(eligible.length - count).forEach((key, index) => {
    const created = Date.parse(key.createdAt);
    key.rotatedOut = {
      previousKeyId: generateAwsAccessKey(random.next).accessKeyId,
      rotatedAt: key.createdAt,
      usedAt: isoDay(created + (Date.parse(key.lastUsedAt!) - created) / 2),
      // TEST-NET-1 (RFC 5737): an address nobody's entry declares.
      usedFrom: `192.0.2.${(index % 254) + 1}`,
    };
  });
}

/**
 * The providers whose sandbox keeps, for each use of a key, a record naming the key and the caller's address — as the
 * provider's own log does: CloudTrail (`userIdentity.accessKeyId`, `sourceIPAddress`), Datadog's Audit Trail for API
 * keys (`@metadata.api_key.id`), Entra's service-principal sign-ins (`servicePrincipalCredentialKeyId`, `ipAddress`)
 * and GCP's Data Access audit logs (`serviceAccountKeyName`, `callerIp`).
 */
function logsEachUse(key: OrgKey): boolean {
  return (
    key.provider === 'aws-iam' ||
    key.provider === 'gcp' ||
    key.provider === 'azure' ||
    (key.provider === 'datadog' && key.kind === 'api-key')
  );
}

/**
 * Evidence for the unregistered keys shared between teams (issue 15): a used unregistered key of several consuming
 * teams, at a provider that logs each use with its caller (logsEachUse), is called from each team's services — from
 * an address that team's entries declare and no other team's does (the stray-use plant's `expectedSources`).
 * Consumers of a key nobody registered are known only from such calls. Where there can be none — the provider's log
 * of API use does not name the key with its caller (GitLab's audit events, Twilio's Monitor events and Cloudflare's
 * audit logs record changes, not each call; Stripe, Slack, SendGrid and OpenAI keep no such log; GitHub's names a
 * fine-grained token by `token_id`, which discovery does not keep beside the grant's id), the key was never used, or
 * a consuming team declares no address of its own — a second team's use is one no deployment could observe, so the
 * key is not dealt as shared: its own team is its only consumer and its category its own (docs/audit.md).
 */
function plantSharedUses(
  keys: OrgKey[],
  teams: readonly string[],
  ownCategory: ReadonlyMap<OrgKey, OrgKey['category']>,
): void {
  const declaredBy = new Map<string, Set<string>>();
  for (const key of keys) {
    if (!key.registryOwnerTeam) continue;
    for (const source of key.expectedSources ?? []) {
      const address = source.replace(/\/32$/, '');
      const owners = declaredBy.get(address) ?? new Set<string>();
      owners.add(key.registryOwnerTeam);
      declaredBy.set(address, owners);
    }
  }
  const addressOf = new Map<string, string>();
  for (const team of teams) {
    const own = [...declaredBy].find(([, owners]) => owners.size === 1 && owners.has(team));
    if (own) addressOf.set(team, own[0]);
  }
  for (const key of keys) {
    if (key.registered || key.consumers.length < 2) continue;
    const addresses = key.consumers.map((team) => addressOf.get(team));
    if (
      logsEachUse(key) &&
      key.lastUsedAt !== null &&
      addresses.every((address): address is string => address !== undefined)
    ) {
      key.sharedUseFrom = addresses;
    } else {
      key.consumers = [key.team];
      key.category = ownCategory.get(key) ?? key.category;
    }
  }
}

/** Makes `secret` and `publicKey` computed on first read (and then kept), still enumerable for JSON. */
function defineLazyMaterial(key: OrgKey, material: () => { secret: string; publicKey: string }): void {
  let cached: { secret: string; publicKey: string } | undefined;
  const get = () => {
    cached ??= material();
    return cached;
  };
  Object.defineProperty(key, 'secret', { get: () => get().secret, enumerable: true, configurable: true });
  Object.defineProperty(key, 'publicKey', { get: () => get().publicKey, enumerable: true, configurable: true });
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
