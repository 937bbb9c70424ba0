// Audit-log enrichment (README.md, "Audit"): each audit-log record joined to the registry entry and owner of the key that made it,
// counted as usage, and flagged when it is unusual — a key with no registry entry ("investigate"), a use from a
// source the entry does not declare, a revoked or rotated-out key still in use (a stolen-key signal), a key used by
// several teams' services (split it: one key per team). Records are folded into aggregates as they stream past, so memory
// grows with the number of distinct (key, day, source, principal, outcome) tuples, not with the records.
import type { AuditLogRecord } from '../audit-logs/audit-log-record.js';
import type { AuditAnomaliesTable, AuditUsageTable } from '../db/operational-schema.js';
import { inPrimaryKeyOrder } from './audit-usage-batch.js';
import type { CredentialIndex, IndexedCredential } from './credential-index.js';

export const ANOMALY_KINDS = [
  'unregistered-key',
  'unexpected-source',
  'revoked-key-used',
  'rotated-out-key-used',
  'shared-across-teams',
] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** A usage aggregate as the audit_usage table stores it (src/db/operational-schema.ts). */
export type UsageRow = AuditUsageTable;

/** An anomaly as the audit_anomalies table stores it, its kind one of ANOMALY_KINDS. */
export type AnomalyRow = Omit<AuditAnomaliesTable, 'kind'> & { kind: AnomalyKind };

export interface EnrichmentSummary {
  records: number;
  /** Records naming a credential that belongs to a registry entry (in any standing). */
  matched: number;
  /** Records naming a credential no registry entry accounts for. */
  unregistered: number;
  /** Records naming no credential, or a temporary one (counted as usage of nobody's key). */
  withoutKey: number;
  keysSeen: number;
  anomalies: Record<AnomalyKind, number>;
}

/** The teams whose sources used a registered key (the first use of each team, in source order). */
export interface KeyTeamsSeen {
  ownerTeam: string | null;
  provider: string;
  credential: string;
  /** Team -> when its first use (in source order) happened. */
  teams: Map<string, string>;
}

/**
 * What part of the input added besides usage, taken from one enrichment (a worker thread's, for one source) and
 * absorbed by another in source order (audit-log-enrichment-worker.ts): absorbing the parts in order gives what one
 * enrichment of the whole input would hold, down to which record came first (an anomaly's detail, the anomalies'
 * order). Structured-cloneable.
 */
export interface EnrichmentPart {
  records: number;
  matched: number;
  unregistered: number;
  withoutKey: number;
  keysSeen: string[];
  anomalies: Map<string, AnomalyRow>;
  teamsByKey: Map<string, KeyTeamsSeen>;
}

/** The key of a credential in the usage tables: its provider id, or its token hash. */
export function credentialText(credential: { providerKeyId?: string; hashedToken?: string }): string {
  return credential.providerKeyId ?? `sha256:${credential.hashedToken}`;
}

export class AuditLogEnrichment {
  readonly #index: CredentialIndex;
  #usage = new Map<string, UsageRow>();
  /** Slots of usage rows already taken (takeUsage), so the distinct rows are still counted once. */
  readonly #takenSlots = new Set<string>();
  #anomalies = new Map<string, AnomalyRow>();
  /** key_id -> teams whose sources used it, for the shared-across-teams check at the end. */
  #teamsByKey = new Map<string, KeyTeamsSeen>();
  #keysSeen = new Set<string>();
  readonly #onUnauthorisedUse: ((keyId: string) => void) | undefined;
  #records = 0;
  #matched = 0;
  #unregistered = 0;
  #withoutKey = 0;

  constructor(index: CredentialIndex, options: { onUnauthorisedUse?: (keyId: string) => void } = {}) {
    this.#index = index;
    this.#onUnauthorisedUse = options.onUnauthorisedUse;
  }

  add(record: AuditLogRecord): void {
    this.#records += 1;
    const credential = record.credential;
    if (!credential || credential.temporary || (!credential.providerKeyId && !credential.hashedToken)) {
      this.#withoutKey += 1;
      return;
    }
    const source = record.sourceIp ?? (record.viaService ? `via:${record.viaService}` : '');
    const text = credentialText(credential);
    const found = this.#index.find(record.provider, credential);
    const sourceTeam = record.sourceIp
      ? this.#index.teamOfSource(record.sourceIp)
      : record.viaService
        ? this.#index.teamOfSource(record.viaService)
        : null;
    const stolen = found !== undefined && isStolenUse(found, record);
    this.#count(record, text, source, found?.keyId ?? null, sourceTeam, found !== undefined && !stolen);
    if (!found) {
      this.#unregistered += 1;
      this.#flag(
        'unregistered-key',
        record,
        text,
        source,
        undefined,
        `${record.provider} key ${text} has no registry entry: investigate`,
      );
      return;
    }
    this.#matched += 1;
    this.#keysSeen.add(found.keyId);
    if (stolen) this.#flagStolenUse(found, record, text, source);
    if (
      found.expected &&
      !(record.sourceIp && found.expected.matches(record.sourceIp)) &&
      !(record.viaService && found.expected.matches(record.viaService))
    ) {
      this.#flag(
        'unexpected-source',
        record,
        text,
        source,
        found,
        `${found.keyId} used from ${source || 'an unnamed source'}, outside its expected_sources`,
      );
    }
    // A stolen use (a revoked or rotated-out key) is a thief's call, not a consuming team's: its address says nothing
    // about who shares the key (the generator's revoked IAM keys are called from addresses other teams declare).
    if (sourceTeam && !stolen) {
      let teams = this.#teamsByKey.get(found.keyId);
      if (!teams) {
        teams = { ownerTeam: found.ownerTeam ?? null, provider: record.provider, credential: text, teams: new Map() };
        this.#teamsByKey.set(found.keyId, teams);
      }
      if (!teams.teams.has(sourceTeam)) teams.teams.set(sourceTeam, record.at);
    }
  }

  /** Usage rows held (not yet taken). */
  get pendingUsageRows(): number {
    return this.#usage.size;
  }

  /**
   * The usage rows so far, in primary-key order, and forgets them: the store adds counts up, so an ingest writes
   * usage in pieces while it reads instead of holding every row to the end (audit-log-ingest.ts).
   */
  takeUsage(): UsageRow[] {
    const rows = inPrimaryKeyOrder(this.#usage.values());
    for (const slot of this.#usage.keys()) this.#takenSlots.add(slot);
    this.#usage = new Map();
    return rows;
  }

  /** Distinct usage slots seen, taken or not. */
  usageSlotCount(): number {
    if (this.#takenSlots.size === 0) return this.#usage.size;
    let count = this.#takenSlots.size;
    for (const slot of this.#usage.keys()) if (!this.#takenSlots.has(slot)) count += 1;
    return count;
  }

  /** Every distinct usage slot seen, taken or not (to count distinct rows over several enrichments). */
  usageSlots(): Set<string> {
    const slots = new Set(this.#takenSlots);
    for (const slot of this.#usage.keys()) slots.add(slot);
    return slots;
  }

  /** Everything but usage added since the last part, and forgets it (see EnrichmentPart). */
  takePart(): EnrichmentPart {
    const part: EnrichmentPart = {
      records: this.#records,
      matched: this.#matched,
      unregistered: this.#unregistered,
      withoutKey: this.#withoutKey,
      keysSeen: [...this.#keysSeen],
      anomalies: this.#anomalies,
      teamsByKey: this.#teamsByKey,
    };
    this.#records = 0;
    this.#matched = 0;
    this.#unregistered = 0;
    this.#withoutKey = 0;
    this.#keysSeen = new Set();
    this.#anomalies = new Map();
    this.#teamsByKey = new Map();
    return part;
  }

  /**
   * Adds a part taken from another enrichment of the input that follows what this one has seen: a slot's first
   * record stays the one this enrichment saw first (its detail, its place in the anomalies' order).
   */
  absorb(part: EnrichmentPart): void {
    this.#records += part.records;
    this.#matched += part.matched;
    this.#unregistered += part.unregistered;
    this.#withoutKey += part.withoutKey;
    for (const keyId of part.keysSeen) this.#keysSeen.add(keyId);
    for (const [slot, anomaly] of part.anomalies) {
      const row = this.#anomalies.get(slot);
      if (!row) {
        this.#anomalies.set(slot, anomaly);
        continue;
      }
      row.count += anomaly.count;
      if (anomaly.first_at < row.first_at) row.first_at = anomaly.first_at;
      if (anomaly.last_at > row.last_at) row.last_at = anomaly.last_at;
    }
    for (const [keyId, seen] of part.teamsByKey) {
      const teams = this.#teamsByKey.get(keyId);
      if (!teams) {
        this.#teamsByKey.set(keyId, seen);
        continue;
      }
      for (const [team, at] of seen.teams) if (!teams.teams.has(team)) teams.teams.set(team, at);
    }
  }

  #flagStolenUse(found: IndexedCredential, record: AuditLogRecord, text: string, source: string): void {
    const kind = found.standing === 'revoked' ? 'revoked-key-used' : 'rotated-out-key-used';
    const since = found.endedAt ? ` since ${found.endedAt}` : ' (revocation time unknown)';
    this.#flag(
      kind,
      record,
      text,
      source,
      found,
      `${found.keyId}: a ${found.standing} key${since} was used from ${source || 'an unnamed source'} (${record.outcome}): someone still holds it`,
    );
    this.#onUnauthorisedUse?.(found.keyId);
  }

  #count(
    record: AuditLogRecord,
    credential: string,
    source: string,
    keyId: string | null,
    sourceTeam: string | null,
    current: boolean,
  ): void {
    const day = record.at.slice(0, 10);
    const principal = record.principal ?? '';
    const slot = `${record.provider}\u0000${credential}\u0000${day}\u0000${source}\u0000${principal}\u0000${record.outcome}`;
    const row = this.#usage.get(slot);
    if (row) {
      row.count += 1;
      if (record.at < row.first_at) row.first_at = record.at;
      if (record.at > row.last_at) row.last_at = record.at;
      if (current && (row.last_current_at === null || record.at > row.last_current_at)) row.last_current_at = record.at;
      return;
    }
    this.#usage.set(slot, {
      provider: record.provider,
      credential,
      day,
      source,
      principal,
      outcome: record.outcome,
      key_id: keyId,
      source_team: sourceTeam,
      count: 1,
      first_at: record.at,
      last_at: record.at,
      last_current_at: current ? record.at : null,
    });
  }

  #flag(
    kind: AnomalyKind,
    record: Pick<AuditLogRecord, 'provider' | 'at'>,
    credential: string,
    source: string,
    found: IndexedCredential | undefined,
    detail: string,
  ): void {
    const slot = `${kind}\u0000${record.provider}\u0000${credential}\u0000${source}`;
    const row = this.#anomalies.get(slot);
    if (row) {
      row.count += 1;
      if (record.at < row.first_at) row.first_at = record.at;
      if (record.at > row.last_at) row.last_at = record.at;
      return;
    }
    this.#anomalies.set(slot, {
      kind,
      provider: record.provider,
      credential,
      source,
      key_id: found?.keyId ?? null,
      owner_team: found?.ownerTeam ?? null,
      detail,
      count: 1,
      first_at: record.at,
      last_at: record.at,
    });
  }

  /**
   * Ends the pass: adds the anomalies that need every record (shared across teams) and returns what was found —
   * the usage rows not taken yet, in primary-key order.
   */
  finish(): { usage: UsageRow[]; anomalies: AnomalyRow[]; summary: EnrichmentSummary } {
    for (const [keyId, seen] of this.#teamsByKey) {
      const others = [...seen.teams.keys()].filter((team) => team !== seen.ownerTeam);
      if (others.length === 0) continue;
      const all = [...new Set([...(seen.ownerTeam ? [seen.ownerTeam] : []), ...seen.teams.keys()])].sort();
      // Sharing takes two teams: an entry without an owner team called from one team's services is that team's
      // use, not a second team's (no clear owner is its own finding, src/audit/drift-classification.ts).
      if (all.length < 2) continue;
      const first = [...seen.teams.values()].sort()[0]!;
      this.#flag(
        'shared-across-teams',
        { provider: seen.provider, at: first },
        seen.credential,
        '',
        { keyId, standing: 'current', ...(seen.ownerTeam ? { ownerTeam: seen.ownerTeam } : {}) },
        `${keyId} is used by ${all.length} teams' services (${all.join(', ')}): split it, one key per team`,
      );
    }
    const anomalies = [...this.#anomalies.values()];
    const counts = Object.fromEntries(ANOMALY_KINDS.map((kind) => [kind, 0])) as Record<AnomalyKind, number>;
    for (const anomaly of anomalies) counts[anomaly.kind] += 1;
    return {
      usage: inPrimaryKeyOrder(this.#usage.values()),
      anomalies,
      summary: {
        records: this.#records,
        matched: this.#matched,
        unregistered: this.#unregistered,
        withoutKey: this.#withoutKey,
        keysSeen: this.#keysSeen.size,
        anomalies: counts,
      },
    };
  }
}

/**
 * A use of a key after it stopped being its entry's current key (rotated out, or its entry revoked — at any time
 * when the revocation time is unknown): someone still holds it. Use before the key's end is history, not a signal.
 */
function isStolenUse(found: IndexedCredential, record: Pick<AuditLogRecord, 'at'>): boolean {
  if (found.standing === 'current') return false;
  return !(found.endedAt && record.at < found.endedAt);
}
