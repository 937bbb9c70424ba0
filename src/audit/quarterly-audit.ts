// The quarterly audit (README.md, "Audit"), as one pure function over what keyledger knows: the registry, the
// people directory, the usage and anomalies of ingested audit logs, and the previous audit. It answers the ownership
// questions ("who owns this? are they still here? is it still used?") per key, counts the headline numbers (active, no clear owner, of leavers, admin scope),
// and compares with the last audit so the second one asks only what changed. Rendering is in audit-report-render.ts.
import type { PeopleDirectory } from '../directory/people-directory.js';
import { consumerTeams, rotationDueDate } from '../registry/policy/policy-rules.js';
import { parseInstant } from '../registry/registry-dates.js';
import type { LoadedEntry } from '../registry/registry-loader.js';
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
  /** Entries in the registry that are active (the headline's "active API keys"). */
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
  anomalies?: readonly AuditAnomaly[];
  /** The holder discovery listed per key (`provider\u0000providerKeyId`, key-discovery.ts discoveredHolders). */
  holders?: ReadonlyMap<string, string>;
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

  for (const { entry, file } of input.entries) {
    if (entry.status !== 'active') continue;
    headline.activeKeys += 1;
    const team = entry.owner_team ?? '(none)';
    keysByTeam[team] = (keysByTeam[team] ?? 0) + 1;
    const shared = consumerTeams(entry.consumed_by).size > 1 || sharedInUse.has(entry.key_id);
    const holder =
      entry.provider_key_id !== undefined
        ? input.holders?.get(`${entry.scope?.provider}\u0000${entry.provider_key_id}`)
        : undefined;
    categories[entry.key_id] = categoryOf({
      classes: shared ? ['shared-across-teams'] : [],
      account: entry.scope?.account_id,
      holder,
    });
    const add = (cls: AuditFindingClass, detail: string) =>
      findings.push({
        class: cls,
        keyId: entry.key_id,
        team,
        ...(entry.owner_individual ? { owner: entry.owner_individual } : {}),
        file,
        detail,
      });

    const created = parseInstant(entry.created_at)?.date;
    if (!created) ageBuckets.unknown! += 1;
    else {
      const age = (asOfMs - created.getTime()) / DAY_MS;
      ageBuckets[age < 90 ? '<90d' : age < 180 ? '90-180d' : age < 365 ? '180-365d' : '>1y']! += 1;
    }

    const lastAudit = parseInstant(entry.audit?.last_audit)?.date;
    if (!lastAudit) add('stale-entry', 'never audited (no audit.last_audit)');
    else if (asOfMs - lastAudit.getTime() > staleDays * DAY_MS)
      add('stale-entry', `last audited ${day(lastAudit)}, over ${staleDays} days before ${day(input.asOf)}`);

    const due = rotationDueDate(entry);
    if (due && due.getTime() < asOfMs) add('rotation-overdue', `rotation was due ${day(due)}`);
    const expires = parseInstant(entry.expiration)?.date;
    if (expires && expires.getTime() < asOfMs) add('expired', `expired ${day(expires)}`);

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

    const teams = consumerTeams(entry.consumed_by);
    if (teams.size > 1) add('shared-across-teams', `consumed by ${teams.size} teams: ${[...teams].sort().join(', ')}`);

    const provider = entry.scope?.provider;
    if (provider && input.providersWithUsage?.has(provider)) {
      const last = input.lastUse?.get(entry.key_id);
      if (!last) add('no-observed-use', `no use of this ${provider} key in the ingested audit logs`);
      else if (asOfMs - Date.parse(last) >= unusedDays * DAY_MS)
        add(
          'unused-30-days',
          `last used ${last.slice(0, 10)}, ${Math.floor((asOfMs - Date.parse(last)) / DAY_MS)} days before ${day(input.asOf)}`,
        );
    }
  }

  const entryTeam = new Map(input.entries.map(({ entry }) => [entry.key_id, entry]));
  // One finding per class and key: anomalies come per source, and a key may already be a finding of that class.
  const seen = new Set(findings.map(findingSlot));
  for (const anomaly of input.anomalies ?? []) {
    const cls: AuditFindingClass | undefined =
      anomaly.kind === 'unregistered-key'
        ? 'unregistered-key'
        : anomaly.kind === 'revoked-key-used' || anomaly.kind === 'rotated-out-key-used'
          ? 'unauthorized-use'
          : anomaly.kind === 'unexpected-source'
            ? 'unexpected-source'
            : anomaly.kind === 'shared-across-teams'
              ? 'shared-across-teams'
              : undefined;
    if (!cls) continue;
    const entry = anomaly.key_id ? entryTeam.get(anomaly.key_id) : undefined;
    const keyId = anomaly.key_id ?? `${anomaly.provider}:${anomaly.credential}`;
    const slot = findingSlot({ class: cls, keyId });
    if (seen.has(slot)) continue;
    seen.add(slot);
    if (cls === 'unregistered-key') headline.unregistered += 1;
    findings.push({
      class: cls,
      keyId,
      team: entry?.owner_team ?? anomaly.owner_team ?? '(none)',
      ...(entry?.owner_individual ? { owner: entry.owner_individual } : {}),
      detail: anomaly.detail,
    });
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
 * Team, class, key: in code-unit order on one composite key per finding, compared once per pair. localeCompare on
 * three fields was a large share of the audit with 200,000 findings, and its order hung on the machine's locale.
 */
function sortFindings(findings: AuditFinding[]): void {
  const keyed = findings.map((finding) => ({
    key: `${finding.team}\u0000${finding.class}\u0000${finding.keyId}`,
    finding,
  }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (let i = 0; i < keyed.length; i++) findings[i] = keyed[i]!.finding;
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
