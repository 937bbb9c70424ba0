// The quarterly audit (README.md, "Audit"), as one pure function over what keyledger knows: the registry, the
// people directory, the usage and anomalies of ingested audit logs, and the previous audit. It answers the ownership
// questions ("who owns this? are they still here? is it still used?") per key, counts the headline numbers (active, no clear owner, of leavers, admin scope),
// and compares with the last audit so the second one asks only what changed. Rendering is in audit-report-render.ts.
import type { PeopleDirectory } from '../directory/people-directory.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { consumerTeams, rotationDueDate } from '../registry/policy/policy-rules.js';
import { parseInstant } from '../registry/registry-dates.js';
import type { LoadedEntry } from '../registry/registry-loader.js';
import type { ClassifiedKey } from './drift-classification.js';
import { type KeyCategory, keyCategorizer } from './key-category.js';

const DAY_MS = 86_400_000;

export const AUDIT_FINDING_CLASSES = [
  'stale-entry',
  'rotation-overdue',
  'expired',
  'owner-left',
  'owner-not-in-directory',
  'team-unknown',
  'no-clear-owner',
  'unused-30-days',
  'no-observed-use',
  'broad-scope',
  'shared-across-teams',
  'unauthorized-use',
  'unexpected-source',
  'unregistered-key',
  'registered-gone',
] as const;
export type AuditFindingClass = (typeof AUDIT_FINDING_CLASSES)[number];

/** What each class asks a person to do: the line the report and the tickets print. */
export const AUDIT_FINDING_ACTIONS: Record<AuditFindingClass, string> = {
  'stale-entry': 'review the entry (last audited over 90 days ago) and set audit.last_audit',
  'rotation-overdue': 'rotate the key (past last_rotated + rotation_frequency_days)',
  expired: 'rotate or revoke: the key is past its expiration',
  'owner-left': 'reassign to a current owner and rotate (the owner has left)',
  'owner-not-in-directory': 'name an owner who is in the people directory',
  'team-unknown': 'name an owning team that exists in the directory',
  'no-clear-owner': 'find the owner: the entry names no team or no individual',
  'unused-30-days': 'revoke if nobody needs it: no use in the audit logs for 30 days or more',
  'no-observed-use': 'revoke if nobody needs it: never seen in the ingested audit logs of its provider',
  'broad-scope': 'review the broad permissions (admin, wildcard, cluster-wide) and narrow them',
  'shared-across-teams': 'split the key: one per consuming team (keyledger split)',
  'unauthorized-use': 'investigate: a revoked or rotated-out key was used after its end',
  'unexpected-source': 'investigate the use from outside expected_sources, or declare the source',
  'unregistered-key': 'register the key (keyledger discover --adopt) or revoke it',
  'registered-gone':
    'the provider no longer lists this key: mark the entry revoked, or correct its provider_key_id if it was replaced',
};

/**
 * The finding class of each anomaly kind that becomes a finding (other kinds do not): one finding per class and key,
 * so the two ways a key is used past its end are one class. audit-anomaly-findings.ts reads by the same table.
 */
export const ANOMALY_FINDING_CLASSES: Readonly<Record<string, AuditFindingClass>> = {
  'unregistered-key': 'unregistered-key',
  'revoked-key-used': 'unauthorized-use',
  'rotated-out-key-used': 'unauthorized-use',
  'unexpected-source': 'unexpected-source',
  'shared-across-teams': 'shared-across-teams',
};

export interface AuditFinding {
  class: AuditFindingClass;
  /** A registry key id, or the provider credential for keys with no entry. */
  keyId: string;
  /** The owning team, or `(none)` for findings no team owns. */
  team: string;
  owner?: string;
  file?: string;
  detail: string;
}

export interface AuditHeadline {
  /**
   * The headline's "active API keys": active registry entries, plus the live keys discovery listed that no entry
   * names (the brief counts those among its ~1,200, and among those "with no clear owner").
   */
  activeKeys: number;
  noClearOwner: number;
  ownerLeft: number;
  adminScope: number;
  /** Keys seen in use at a provider with no registry entry (from audit-log enrichment and discovery). */
  unregistered: number;
}

export interface AuditSummary {
  asOf: string;
  headline: AuditHeadline;
  byClass: Record<AuditFindingClass, number>;
  byTeam: Record<string, number>;
  /** Active keys by age since creation: under 90 days, 90-180, 180-365, over a year, unknown. */
  ageBuckets: Record<string, number>;
  /** Active keys per owning team. */
  keysByTeam: Record<string, number>;
}

export interface PreviousAudit {
  id: string;
  asOf: string;
  summary: AuditSummary;
  /** `class<TAB>key_id` of each finding then. */
  findings: Set<string>;
}

export interface AuditReport extends AuditSummary {
  generatedAt: string;
  findings: AuditFinding[];
  /** Each active entry's category (key-category.ts): shared between teams, a person's own key, or a service key. */
  categories: Record<string, KeyCategory>;
  previous?: {
    asOf: string;
    headline: AuditHeadline;
    /** Findings now that were not there last time, and findings then that are gone. */
    newFindings: number;
    resolvedFindings: number;
    resolved: Array<{ class: string; keyId: string }>;
  };
}

export interface AuditAnomaly {
  kind: string;
  key_id: string | null;
  credential: string;
  provider: string;
  owner_team: string | null;
  detail: string;
}

export interface QuarterlyAuditInput {
  entries: readonly LoadedEntry[];
  asOf: Date;
  now: Date;
  people?: PeopleDirectory;
  /** True for a permission the policy calls broad (the registry policy's isForbiddenPermission). */
  isBroadPermission: (permission: string) => boolean;
  /** Last observed use per key_id, from the ingested audit logs. */
  lastUse?: ReadonlyMap<string, string>;
  /** Providers whose audit logs were ingested: only their keys can be called unused. */
  providersWithUsage?: ReadonlySet<string>;
  /**
   * The stored anomalies, newest last use first: the audit keeps the first of each finding class and key. Reading
   * only those (audit-anomaly-findings.ts, one row per class and key instead of ~175,000 on the bench) gives the
   * same report.
   */
  anomalies?: readonly AuditAnomaly[];
  /** The holder discovery listed per key (`provider\u0000providerKeyId`, key-discovery.ts discoveredHolders). */
  holders?: ReadonlyMap<string, string>;
  /**
   * The live keys the latest discovery listed that no registry entry names (drift-classification.ts, class
   * `unregistered`): each is an `unregistered-key` finding, and counts in the headline as an active key without a
   * clear owner (with admin scope when its listing names a broad permission).
   */
  unregisteredListed?: readonly ClassifiedKey[];
  /**
   * Keys that a completed listing no longer showed (`discovered_keys.gone_at`, key-discovery.ts):
   * `provider\u0000providerKeyId` -> when. An active entry naming one is a `registered-gone` finding.
   */
  goneAtProvider?: ReadonlyMap<string, string>;
  previous?: PreviousAudit;
  staleAfterDays?: number;
  unusedAfterDays?: number;
}

export function runQuarterlyAudit(input: QuarterlyAuditInput): AuditReport {
  const asOfMs = input.asOf.getTime();
  const staleDays = input.staleAfterDays ?? 90;
  const unusedDays = input.unusedAfterDays ?? 30;
  const teamsInDirectory = input.people?.teams();
  const findings: AuditFinding[] = [];
  const headline: AuditHeadline = { activeKeys: 0, noClearOwner: 0, ownerLeft: 0, adminScope: 0, unregistered: 0 };
  const ageBuckets: Record<string, number> = { '<90d': 0, '90-180d': 0, '180-365d': 0, '>1y': 0, unknown: 0 };
  const keysByTeam: Record<string, number> = {};
  const categoryOf = keyCategorizer(input.people);
  const sharedInUse = new Set(
    (input.anomalies ?? []).filter((a) => a.kind === 'shared-across-teams' && a.key_id).map((a) => a.key_id!),
  );
  const categories: Record<string, KeyCategory> = {};
  // Every entry by key_id, for the anomalies below; built in this one pass over the entries.
  const entryTeam = new Map<string, KeyEntry>();
  // The only class both the entries and the anomalies give: the anomalies are checked against these keys.
  const sharedFindings = new Set<string>();
  const asOfDay = day(input.asOf);
  const dayOf = dayMemo();

  for (const { entry, file } of input.entries) {
    entryTeam.set(entry.key_id, entry);
    if (entry.status !== 'active') continue;
    headline.activeKeys += 1;
    const team = entry.owner_team ?? '(none)';
    keysByTeam[team] = (keysByTeam[team] ?? 0) + 1;
    const teams = consumerTeams(entry.consumed_by);
    const shared = teams.size > 1 || sharedInUse.has(entry.key_id);
    const holder =
      entry.provider_key_id !== undefined
        ? input.holders?.get(`${entry.scope?.provider}\u0000${entry.provider_key_id}`)
        : undefined;
    categories[entry.key_id] = categoryOf({
      classes: shared ? ['shared-across-teams'] : [],
      account: entry.scope?.account_id,
      holder,
    });
    // Two literal shapes rather than a spread of an optional field: this runs for every finding (~200,000 on
    // 100,000 keys), and spreading a temporary object was a measurable share of it.
    const keyId = entry.key_id;
    const owner = entry.owner_individual;
    const add = (cls: AuditFindingClass, detail: string) =>
      findings.push(
        owner ? { class: cls, keyId, team, owner, file, detail } : { class: cls, keyId, team, file, detail },
      );

    const created = parseInstant(entry.created_at)?.date;
    if (!created) ageBuckets.unknown! += 1;
    else {
      const age = (asOfMs - created.getTime()) / DAY_MS;
      ageBuckets[age < 90 ? '<90d' : age < 180 ? '90-180d' : age < 365 ? '180-365d' : '>1y']! += 1;
    }

    const lastAudit = parseInstant(entry.audit?.last_audit)?.date;
    if (!lastAudit) add('stale-entry', 'never audited (no audit.last_audit)');
    else if (asOfMs - lastAudit.getTime() > staleDays * DAY_MS)
      add('stale-entry', `last audited ${dayOf(lastAudit)}, over ${staleDays} days before ${asOfDay}`);

    const due = rotationDueDate(entry);
    if (due && due.getTime() < asOfMs) add('rotation-overdue', `rotation was due ${dayOf(due)}`);
    const expires = parseInstant(entry.expiration)?.date;
    if (expires && expires.getTime() < asOfMs) add('expired', `expired ${dayOf(expires)}`);

    // Ownership: "no clear owner" is no team or no person, or a person or team the directory does not know.
    let clearOwner = Boolean(entry.owner_team && entry.owner_individual);
    if (!entry.owner_team || !entry.owner_individual) {
      add(
        'no-clear-owner',
        `names ${entry.owner_team ? 'no individual' : entry.owner_individual ? 'no team' : 'no team and no individual'}`,
      );
    }
    if (entry.owner_individual && input.people) {
      const person = input.people.find(entry.owner_individual);
      if (!person) {
        clearOwner = false;
        add('owner-not-in-directory', `${entry.owner_individual} is not in the people directory`);
      } else if (person.status !== 'active') {
        headline.ownerLeft += 1;
        add(
          'owner-left',
          `${entry.owner_individual} ${person.status === 'left' ? 'left' : 'is suspended'}${person.left_at ? ` on ${person.left_at}` : ''}`,
        );
      }
    }
    if (entry.owner_team && teamsInDirectory && !teamsInDirectory.has(entry.owner_team)) {
      clearOwner = false;
      add('team-unknown', `team ${entry.owner_team} has nobody in the people directory`);
    }
    if (!clearOwner) headline.noClearOwner += 1;

    const broad = (entry.scope?.permissions ?? []).filter((permission) => input.isBroadPermission(permission));
    if (broad.length > 0) {
      headline.adminScope += 1;
      add('broad-scope', `broad permissions: ${broad.join(', ')}${entry.justification ? ' (justified)' : ''}`);
    }

    if (teams.size > 1) {
      add('shared-across-teams', `consumed by ${teams.size} teams: ${[...teams].sort().join(', ')}`);
      sharedFindings.add(entry.key_id);
    }

    const provider = entry.scope?.provider;
    if (provider && entry.provider_key_id !== undefined && input.goneAtProvider) {
      const goneAt = input.goneAtProvider.get(`${provider}\u0000${entry.provider_key_id}`);
      if (goneAt)
        add(
          'registered-gone',
          `${provider} no longer lists key ${entry.provider_key_id} (gone since ${goneAt.slice(0, 10)})`,
        );
    }
    if (provider && input.providersWithUsage?.has(provider)) {
      const last = input.lastUse?.get(entry.key_id);
      if (!last) add('no-observed-use', `no use of this ${provider} key in the ingested audit logs`);
      else if (asOfMs - Date.parse(last) >= unusedDays * DAY_MS)
        add(
          'unused-30-days',
          `last used ${last.slice(0, 10)}, ${Math.floor((asOfMs - Date.parse(last)) / DAY_MS)} days before ${asOfDay}`,
        );
    }
  }

  // One finding per class and key: anomalies come per source, and a key may already be a finding of that class —
  // of the entries' classes only shared-across-teams is also an anomaly's.
  const seen = new Map<AuditFindingClass, Set<string>>([['shared-across-teams', sharedFindings]]);
  // Keys a provider lists and no entry names: found by discovery whether or not an audit log shows them in use.
  const unregisteredSeen = new Set<string>();
  seen.set('unregistered-key', unregisteredSeen);
  for (const key of input.unregisteredListed ?? []) {
    const keyId = `${key.provider}:${key.providerKeyId ?? ''}`;
    if (unregisteredSeen.has(keyId)) continue;
    unregisteredSeen.add(keyId);
    headline.activeKeys += 1;
    headline.noClearOwner += 1;
    headline.unregistered += 1;
    if (key.classes.includes('broad-scope')) headline.adminScope += 1;
    const created = key.createdAt ? Date.parse(key.createdAt) : Number.NaN;
    if (Number.isNaN(created)) ageBuckets.unknown! += 1;
    else {
      const age = (asOfMs - created) / DAY_MS;
      ageBuckets[age < 90 ? '<90d' : age < 180 ? '90-180d' : age < 365 ? '180-365d' : '>1y']! += 1;
    }
    // Owned by nobody (keysByTeam is the owner distribution); the finding goes to the team the evidence points to,
    // so its ticket reaches the people most likely to know the key.
    keysByTeam['(none)'] = (keysByTeam['(none)'] ?? 0) + 1;
    const team = key.ownerEvidence?.team ?? '(none)';
    const facts = [
      key.account ? `account ${key.account}` : undefined,
      key.createdBy ? `created by ${key.createdBy}` : undefined,
      key.createdAt ? `on ${key.createdAt.slice(0, 10)}` : undefined,
      key.classes.includes('broad-scope') ? `broad permissions: ${(key.permissions ?? []).join(', ')}` : undefined,
      key.ownerEvidence?.because.length ? `owner evidence: ${key.ownerEvidence.because.join('; ')}` : undefined,
    ].filter(Boolean);
    const detail = `listed by ${key.provider} with no registry entry${facts.length ? ` (${facts.join(', ')})` : ''}`;
    const owner = key.ownerEvidence?.individual;
    findings.push(
      owner
        ? { class: 'unregistered-key', keyId, team, owner, detail }
        : { class: 'unregistered-key', keyId, team, detail },
    );
  }
  for (const anomaly of input.anomalies ?? []) {
    const cls: AuditFindingClass | undefined = Object.hasOwn(ANOMALY_FINDING_CLASSES, anomaly.kind)
      ? ANOMALY_FINDING_CLASSES[anomaly.kind]
      : undefined;
    if (!cls) continue;
    const entry = anomaly.key_id ? entryTeam.get(anomaly.key_id) : undefined;
    const keyId = anomaly.key_id ?? `${anomaly.provider}:${anomaly.credential}`;
    let seenOfClass = seen.get(cls);
    if (!seenOfClass) {
      seenOfClass = new Set();
      seen.set(cls, seenOfClass);
    }
    if (seenOfClass.has(keyId)) continue;
    seenOfClass.add(keyId);
    if (cls === 'unregistered-key') headline.unregistered += 1;
    const team = entry?.owner_team ?? anomaly.owner_team ?? '(none)';
    const owner = entry?.owner_individual;
    findings.push(
      owner
        ? { class: cls, keyId, team, owner, detail: anomaly.detail }
        : { class: cls, keyId, team, detail: anomaly.detail },
    );
  }

  sortFindings(findings);
  const byClass = Object.fromEntries(AUDIT_FINDING_CLASSES.map((cls) => [cls, 0])) as Record<AuditFindingClass, number>;
  const byTeam: Record<string, number> = {};
  for (const finding of findings) {
    byClass[finding.class] += 1;
    byTeam[finding.team] = (byTeam[finding.team] ?? 0) + 1;
  }
  const report: AuditReport = {
    asOf: input.asOf.toISOString(),
    generatedAt: input.now.toISOString(),
    headline,
    byClass,
    byTeam,
    ageBuckets,
    keysByTeam,
    findings,
    categories,
  };
  if (input.previous) {
    const now = new Set(findings.map(findingSlot));
    const resolved = [...input.previous.findings].filter((slot) => !now.has(slot));
    report.previous = {
      asOf: input.previous.asOf,
      headline: input.previous.summary.headline,
      newFindings: [...now].filter((slot) => !input.previous!.findings.has(slot)).length,
      resolvedFindings: resolved.length,
      resolved: resolved.map((slot) => {
        const [cls, keyId] = slot.split('\t');
        return { class: cls!, keyId: keyId! };
      }),
    };
  }
  return report;
}

/**
 * Team, class, key, each in code-unit order (localeCompare was a large share of the audit with 200,000 findings,
 * and its order hung on the machine's locale). Findings are put in a bucket per team and class — a few dozen
 * teams, fourteen classes — and each bucket sorted by key alone: no composite key string per finding, and the
 * buckets arrive nearly sorted (entries in file order), which the sort's runs make cheap. Stable, as one sort was.
 */
function sortFindings(findings: AuditFinding[]): void {
  const buckets = new Map<string, Map<string, AuditFinding[]>>();
  for (const finding of findings) {
    let ofTeam = buckets.get(finding.team);
    if (!ofTeam) {
      ofTeam = new Map();
      buckets.set(finding.team, ofTeam);
    }
    const ofClass = ofTeam.get(finding.class);
    if (ofClass) ofClass.push(finding);
    else ofTeam.set(finding.class, [finding]);
  }
  const byKey = (a: AuditFinding, b: AuditFinding) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0);
  const inOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  let at = 0;
  for (const team of [...buckets.keys()].sort(inOrder)) {
    const ofTeam = buckets.get(team)!;
    for (const cls of [...ofTeam.keys()].sort(inOrder)) {
      for (const finding of ofTeam.get(cls)!.sort(byKey)) findings[at++] = finding;
    }
  }
}

export function findingSlot(finding: Pick<AuditFinding, 'class' | 'keyId'>): string {
  return `${finding.class}\t${finding.keyId}`;
}

export function summaryOf(report: AuditReport): AuditSummary {
  const { asOf, headline, byClass, byTeam, ageBuckets, keysByTeam } = report;
  return { asOf, headline, byClass, byTeam, ageBuckets, keysByTeam };
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** day(), remembered per instant: entries share their dates (a team's keys made together), and findings repeat them. */
function dayMemo(): (date: Date) => string {
  const days = new Map<number, string>();
  return (date) => {
    const ms = date.getTime();
    let text = days.get(ms);
    if (text === undefined) {
      text = day(date);
      if (days.size < 65_536) days.set(ms, text);
    }
    return text;
  };
}
