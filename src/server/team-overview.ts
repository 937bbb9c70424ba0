// Every team the server knows, for the API's /teams and the dashboard's Teams page: the admin-managed records
// (src/directory/team-records.ts) and the teams the registry (`owner_team`) or the directory (the people file, SCIM
// and the other identity sources) names without a record yet, which an admin may adopt. Counts come from the
// caller's entries grouped by team, so no caller walks the registry twice.
import type { KeyledgerApp } from '../app/keyledger-app.js';
import type { TeamRecord } from '../directory/team-records.js';
import type { LoadedEntry } from '../registry/registry-loader.js';
import { entryFacts } from '../registry/registry-query.js';

export interface TeamSummary {
  slug: string;
  displayName: string;
  /** False: named by the registry or the directory, no record yet. */
  recorded: boolean;
  description?: string;
  contact?: string;
  /** People in the record. */
  members: number;
  /** People the directory puts in the team (active or not). */
  people: number;
  keys: number;
  activeKeys: number;
}

export interface TeamKeyCounts {
  total: number;
  active: number;
  rotationOverdue: number;
  revoked: number;
}

/** Distinct people per team, from the people file and the directory the identity sources fill. */
export async function peopleByTeam(app: KeyledgerApp): Promise<Map<string, Set<string>>> {
  const byTeam = new Map<string, Set<string>>();
  const add = (team: string | null | undefined, email: string) => {
    if (!team) return;
    const people = byTeam.get(team) ?? new Set<string>();
    people.add(email.toLowerCase());
    byTeam.set(team, people);
  };
  for (const person of app.workspace.people?.people() ?? []) add(person.team, person.email);
  const heard = await app.operational.db
    .selectFrom('directory_people')
    .select(['email', 'team'])
    .where('team', 'is not', null)
    .execute();
  for (const row of heard) add(row.team, row.email);
  return byTeam;
}

/** Records first by slug, with teams only named elsewhere merged in; sorted by slug. */
export function teamSummaries(input: {
  records: readonly TeamRecord[];
  people: ReadonlyMap<string, ReadonlySet<string>>;
  entriesByTeam: ReadonlyMap<string, readonly LoadedEntry[]>;
}): TeamSummary[] {
  const slugs = new Set<string>([
    ...input.records.map((r) => r.slug),
    ...input.people.keys(),
    ...input.entriesByTeam.keys(),
  ]);
  const records = new Map(input.records.map((record) => [record.slug, record]));
  return [...slugs].sort(compareText).map((slug) => {
    const record = records.get(slug);
    const entries = input.entriesByTeam.get(slug) ?? [];
    return {
      slug,
      displayName: record?.displayName ?? slug,
      recorded: record !== undefined,
      ...(record?.description ? { description: record.description } : {}),
      ...(record?.contact ? { contact: record.contact } : {}),
      members: record?.members.length ?? 0,
      people: input.people.get(slug)?.size ?? 0,
      keys: entries.length,
      activeKeys: entries.filter((loaded) => loaded.entry.status === 'active').length,
    };
  });
}

/** A team's keys counted: all, active, past their rotation date (active ones), revoked. */
export function teamKeyCounts(entries: readonly LoadedEntry[], now: Date): TeamKeyCounts {
  const counts: TeamKeyCounts = { total: entries.length, active: 0, rotationOverdue: 0, revoked: 0 };
  for (const { entry } of entries) {
    if (entry.status === 'revoked') counts.revoked += 1;
    if (entry.status !== 'active') continue;
    counts.active += 1;
    if (entryFacts(entry, now).rotation_overdue) counts.rotationOverdue += 1;
  }
  return counts;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
