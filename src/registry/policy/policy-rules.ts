// The checks `keyledger validate` runs on each entry: docs/registry.md's list (owner, expiry under a year,
// purpose and scope) and the organisation's policy from keyledger.config.yaml. Each rule has a stable id that
// the config can set to error, warning or off.
import type RE2 from 're2';
import type { PeopleDirectory } from '../../directory/people-directory.js';
import { type Consumer, entryPurpose, type KeyEntry } from '../key-entry-schema.js';
import type { PolicyConfig } from '../registry-config.js';
import { daysBetween, parseInstant } from '../registry-dates.js';

export interface PolicyContext {
  policy: PolicyConfig;
  now: Date;
  people?: PeopleDirectory;
  /** True when a permission matches a forbidden pattern (memoised: a registry repeats the same permissions). */
  isForbiddenPermission(permission: string): boolean;
  keyIdPattern?: RE2;
}

export interface RuleFinding {
  message: string;
  path: PropertyKey[];
}

export interface PolicyRule {
  id: string;
  description: string;
  defaultSeverity: 'error' | 'warning';
  check(entry: KeyEntry, context: PolicyContext): RuleFinding[];
}

/** Keys that are no longer in use are not held to the rules of live keys. */
function isLive(entry: KeyEntry): boolean {
  return entry.status === 'active' || entry.status === 'rotating';
}

export const ownerRequired: PolicyRule = {
  id: 'owner-required',
  description: 'Every key has an owner: a team and an individual.',
  defaultSeverity: 'error',
  check(entry) {
    const findings: RuleFinding[] = [];
    if (!entry.owner_team) findings.push({ message: 'no owning team (`owner_team`)', path: ['owner_team'] });
    if (!entry.owner_individual) {
      findings.push({ message: 'no owning individual (`owner_individual`)', path: ['owner_individual'] });
    }
    return findings;
  },
};

export const expirationRequired: PolicyRule = {
  id: 'expiration-required',
  description: 'Every key has a creation date and an expiration.',
  defaultSeverity: 'error',
  check(entry) {
    const findings: RuleFinding[] = [];
    if (!entry.created_at) findings.push({ message: 'no creation date (`created_at`)', path: ['created_at'] });
    if (!entry.expiration) findings.push({ message: 'no expiration (`expiration`)', path: ['expiration'] });
    return findings;
  },
};

function lifetimeLimit(entry: KeyEntry, policy: PolicyConfig): { days: number; byProvider: boolean } {
  const provider = entry.scope?.provider;
  const byProvider = provider === undefined ? undefined : policy.max_lifetime_days_by_provider[provider];
  return byProvider === undefined
    ? { days: policy.max_lifetime_days, byProvider: false }
    : { days: byProvider, byProvider: true };
}

export const maxLifetime: PolicyRule = {
  id: 'max-lifetime',
  description:
    'The expiration is at most the allowed lifetime after creation (365 days unless configured, per provider if set).',
  defaultSeverity: 'error',
  check(entry, { policy }) {
    const created = parseInstant(entry.created_at)?.date;
    const expires = parseInstant(entry.expiration)?.date;
    if (!created || !expires) return [];
    const lifetime = daysBetween(created, expires);
    if (lifetime <= 0) {
      return [{ message: 'expiration is not after created_at', path: ['expiration'] }];
    }
    const limit = lifetimeLimit(entry, policy);
    if (lifetime > limit.days) {
      const where = limit.byProvider ? ` for provider ${entry.scope?.provider}` : '';
      return [
        {
          message: `lifetime ${formatDays(lifetime)} days exceeds the maximum of ${limit.days} days${where}`,
          path: ['expiration'],
        },
      ];
    }
    return [];
  },
};

export const expired: PolicyRule = {
  id: 'expired',
  description: 'An active key is past its expiration.',
  defaultSeverity: 'error',
  check(entry, { now }) {
    if (!isLive(entry)) return [];
    const expires = parseInstant(entry.expiration)?.date;
    if (!expires || expires.getTime() > now.getTime()) return [];
    return [{ message: `expired ${formatDays(daysBetween(expires, now))} days ago`, path: ['expiration'] }];
  },
};

export const rotationOverdue: PolicyRule = {
  id: 'rotation-overdue',
  description: 'An active key is past last_rotated + audit.rotation_frequency_days.',
  defaultSeverity: 'warning',
  check(entry, { now }) {
    if (!isLive(entry)) return [];
    const due = rotationDueDate(entry);
    if (!due || due.getTime() > now.getTime()) return [];
    return [
      {
        message: `rotation overdue by ${formatDays(daysBetween(due, now))} days (every ${entry.audit?.rotation_frequency_days} days)`,
        path: ['last_rotated'],
      },
    ];
  },
};

export const purposeRequired: PolicyRule = {
  id: 'purpose-required',
  description: 'Every key documents its purpose (`purpose`, or its `description`).',
  defaultSeverity: 'error',
  check(entry) {
    return entryPurpose(entry)
      ? []
      : [{ message: 'no documented purpose (`purpose` or `description`)', path: ['purpose'] }];
  },
};

export const scopeRequired: PolicyRule = {
  id: 'scope-required',
  description: 'Every key documents its scope: at least the provider.',
  defaultSeverity: 'error',
  check(entry) {
    if (!entry.scope) return [{ message: 'no scope (`scope.provider`, `scope.permissions`)', path: ['scope'] }];
    return [];
  },
};

export const storageRequired: PolicyRule = {
  id: 'storage-required',
  description: 'Every live key says where its secret is stored.',
  defaultSeverity: 'error',
  check(entry) {
    if (!isLive(entry) || entry.storage) return [];
    return [
      {
        message: 'no storage location (`storage.vault_path`, or `storage.store` and `storage.path`)',
        path: ['storage'],
      },
    ];
  },
};

export const forbiddenPermissions: PolicyRule = {
  id: 'forbidden-permissions',
  description: 'Broad permissions (`*`, admin, cluster-wide) need a `justification`.',
  defaultSeverity: 'error',
  check(entry, { isForbiddenPermission }) {
    if (entry.justification?.trim()) return [];
    const findings: RuleFinding[] = [];
    entry.scope?.permissions?.forEach((permission, index) => {
      if (isForbiddenPermission(permission)) {
        findings.push({
          message: `permission "${permission}" is broad (admin, wildcard or cluster-wide) and needs a \`justification\``,
          path: ['scope', 'permissions', index],
        });
      }
    });
    return findings;
  },
};

export const allowedTeams: PolicyRule = {
  id: 'allowed-teams',
  description: 'The owning team is one of the configured teams.',
  defaultSeverity: 'error',
  check(entry, { policy }) {
    const allowed = policy.allowed_teams;
    if (!allowed || !entry.owner_team || allowed.includes(entry.owner_team)) return [];
    return [{ message: `team "${entry.owner_team}" is not one of the allowed teams`, path: ['owner_team'] }];
  },
};

export const keyIdPattern: PolicyRule = {
  id: 'key-id-pattern',
  description: 'The key_id follows the configured naming pattern.',
  defaultSeverity: 'error',
  check(entry, { keyIdPattern: pattern, policy }) {
    if (!pattern || pattern.test(entry.key_id)) return [];
    return [
      { message: `key_id "${entry.key_id}" does not match the pattern ${policy.key_id_pattern}`, path: ['key_id'] },
    ];
  },
};

export const ownerInDirectory: PolicyRule = {
  id: 'owner-in-directory',
  description: 'The owning individual is a current member of the people directory.',
  defaultSeverity: 'error',
  check(entry, { people }) {
    if (!people || !entry.owner_individual || !isLive(entry)) return [];
    const person = people.find(entry.owner_individual);
    if (!person) {
      return [
        { message: `owner ${entry.owner_individual} is not in the people directory`, path: ['owner_individual'] },
      ];
    }
    if (person.status !== 'active') {
      const when = person.left_at ? ` on ${person.left_at}` : '';
      return [
        {
          message: `owner ${entry.owner_individual} has ${person.status === 'left' ? 'left' : 'been suspended'}${when}: reassign and rotate`,
          path: ['owner_individual'],
        },
      ];
    }
    return [];
  },
};

/** The teams a key's consumers belong to, as `consumed_by` lists them: bare names and `team` fields. */
export function consumerTeams(consumers: readonly Consumer[] | undefined): Set<string> {
  const teams = new Set<string>();
  for (const consumer of consumers ?? []) {
    if (typeof consumer === 'string') teams.add(consumer);
    else if (typeof consumer.team === 'string') teams.add(consumer.team);
  }
  return teams;
}

export const sharedKey: PolicyRule = {
  id: 'shared-key',
  description: 'One key consumed by several teams loses per-team attribution issue one key per team.',
  defaultSeverity: 'warning',
  check(entry) {
    const teams = consumerTeams(entry.consumed_by);
    if (entry.owner_team === 'shared' || teams.size > 1) {
      const list = [...teams].sort().join(', ');
      return [
        {
          message: `shared key: consumed by ${teams.size} teams (${list || entry.owner_team}); issue one key per team for attribution`,
          path: ['consumed_by'],
        },
      ];
    }
    return [];
  },
};

export const POLICY_RULES: readonly PolicyRule[] = [
  ownerRequired,
  expirationRequired,
  maxLifetime,
  expired,
  rotationOverdue,
  purposeRequired,
  scopeRequired,
  storageRequired,
  forbiddenPermissions,
  allowedTeams,
  keyIdPattern,
  ownerInDirectory,
  sharedKey,
];

/** When a key is next due for rotation: last_rotated (or created_at) + rotation_frequency_days. */
export function rotationDueDate(entry: KeyEntry): Date | undefined {
  const frequency = entry.audit?.rotation_frequency_days;
  const last = parseInstant(entry.last_rotated ?? entry.created_at)?.date;
  if (frequency === undefined || !last) return undefined;
  return new Date(last.getTime() + frequency * 86_400_000);
}

function formatDays(days: number): string {
  return Number.isInteger(days) ? String(days) : days.toFixed(1);
}
