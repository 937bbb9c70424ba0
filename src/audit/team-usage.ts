// Per-team usage attribution (issue 15, item 5; the lifecycle's Step 6: "Track which team uses which key"): the
// ingested usage (audit-usage-store.ts) credited to teams. A use counts for a team, in this order of evidence:
//   source    the call came from a source the team's entries declare (`expected_sources`; the enrichment's
//             `source_team`, audit-log-enrichment.ts) — the provider's own log says who called;
//   consumer  the registry declares exactly one consuming team (`consumed_by`) — nobody else should hold the key;
//   owner     the entry declares no consumers at all — its owner team is taken to be its only user.
// A key consumed by several teams whose calls no declared source tells apart stays unattributed, listed with its
// candidate teams: that is the state Step 6 warns about (a shared key loses attribution; split it).
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { consumerTeams } from '../registry/policy/policy-rules.js';

export type AttributionBasis = 'source' | 'consumer' | 'owner';

/** Uses of one key that a usage query grouped together: per key and the team its sources belong to. */
export interface KeyTeamUses {
  key_id: string | null;
  source_team: string | null;
  uses: number;
  last_at: string;
}

export interface TeamUsage {
  team: string;
  uses: number;
  lastUse: string;
  /** Uses per kind of evidence that credited them to this team. */
  byBasis: Record<AttributionBasis, number>;
  /** The team's keys by uses, most used first. */
  keys: Array<{ key_id: string; uses: number; basis: AttributionBasis[] }>;
}

export interface TeamUsageReport {
  teams: TeamUsage[];
  /** Uses of shared keys (several consuming teams) that no declared source attributes. */
  unattributed: Array<{ key_id: string; uses: number; candidates: string[] }>;
  /** Uses by keys no registry entry accounts for (the `unregistered-key` anomaly). */
  unregisteredUses: number;
}

export function attributeUsageToTeams(rows: readonly KeyTeamUses[], entries: readonly KeyEntry[]): TeamUsageReport {
  const byKey = new Map(entries.map((entry) => [entry.key_id, entry]));
  const teams = new Map<string, { uses: number; lastUse: string; byBasis: Record<AttributionBasis, number> }>();
  const keysOfTeam = new Map<string, Map<string, { uses: number; basis: Set<AttributionBasis> }>>();
  const unattributed = new Map<string, { uses: number; candidates: string[] }>();
  let unregisteredUses = 0;

  const credit = (team: string, keyId: string, basis: AttributionBasis, row: KeyTeamUses) => {
    const uses = Number(row.uses);
    const total = teams.get(team) ?? { uses: 0, lastUse: '', byBasis: { source: 0, consumer: 0, owner: 0 } };
    total.uses += uses;
    total.byBasis[basis] += uses;
    if (row.last_at > total.lastUse) total.lastUse = row.last_at;
    teams.set(team, total);
    const keys = keysOfTeam.get(team) ?? new Map<string, { uses: number; basis: Set<AttributionBasis> }>();
    const key = keys.get(keyId) ?? { uses: 0, basis: new Set<AttributionBasis>() };
    key.uses += uses;
    key.basis.add(basis);
    keys.set(keyId, key);
    keysOfTeam.set(team, keys);
  };

  for (const row of rows) {
    if (row.key_id === null) {
      unregisteredUses += Number(row.uses);
      continue;
    }
    if (row.source_team) {
      credit(row.source_team, row.key_id, 'source', row);
      continue;
    }
    const entry = byKey.get(row.key_id);
    const consumers = [...consumerTeams(entry?.consumed_by)].sort();
    if (consumers.length === 1) credit(consumers[0]!, row.key_id, 'consumer', row);
    else if (consumers.length === 0 && entry?.owner_team) credit(entry.owner_team, row.key_id, 'owner', row);
    else {
      const open = unattributed.get(row.key_id) ?? { uses: 0, candidates: consumers };
      open.uses += Number(row.uses);
      unattributed.set(row.key_id, open);
    }
  }

  return {
    teams: [...teams]
      .map(([team, total]) => ({
        team,
        ...total,
        keys: [...(keysOfTeam.get(team) ?? [])]
          .map(([key_id, key]) => ({ key_id, uses: key.uses, basis: [...key.basis].sort() }))
          .sort((a, b) => b.uses - a.uses || a.key_id.localeCompare(b.key_id)),
      }))
      .sort((a, b) => b.uses - a.uses || a.team.localeCompare(b.team)),
    unattributed: [...unattributed]
      .map(([key_id, open]) => ({ key_id, ...open }))
      .sort((a, b) => b.uses - a.uses || a.key_id.localeCompare(b.key_id)),
    unregisteredUses,
  };
}
