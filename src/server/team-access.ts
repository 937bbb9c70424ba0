// What the team records (src/directory/team-records.ts) add to a signed-in person's principal: the teams an admin
// put them in and the roles an admin granted them, united with what their login's claims said (a claim and a
// record add up; neither takes away). Resolved per request from a short cache, so a change is effective at the
// caller's next request in this process (the cache is dropped on every change made here) and within
// RECORDED_ACCESS_TTL_MS on another replica. One TeamAccess per app, shared by the API and the dashboard.
import type { KeyledgerApp } from '../app/keyledger-app.js';
import { type RecordedAccess, TeamRecords } from '../directory/team-records.js';
import type { Clock } from '../runtime/clock.js';
import type { Principal, Role } from './access.js';

/** How long another replica's change may take to reach a request here (docs/server.md, "Teams and roles"). */
export const RECORDED_ACCESS_TTL_MS = 5_000;
/** Emails cached at most; the oldest is dropped beyond it. */
const MAX_CACHED = 10_000;

export class TeamAccess {
  readonly records: TeamRecords;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { access: Promise<RecordedAccess>; at: number }>();

  constructor(records: TeamRecords, options: { ttlMs?: number; now?: () => number } = {}) {
    this.records = records;
    this.#ttlMs = options.ttlMs ?? RECORDED_ACCESS_TTL_MS;
    // The cache's own time (monotonic in practice), not the app's clock, which tests hold still.
    this.#now = options.now ?? (() => performance.now());
    records.onChange(() => this.#cache.clear());
  }

  /**
   * The principal with the records' teams and roles added. People only (sessions from OIDC or the local admin):
   * an API token's grant names its own team and role (src/server/auth/api-tokens.ts) and is not a person's.
   */
  async resolve(principal: Principal): Promise<Principal> {
    if (principal.kind !== 'session' && principal.kind !== 'local-admin') return principal;
    if (!principal.email) return principal;
    const recorded = await this.#accessOf(principal.email);
    if (recorded.teams.length === 0 && recorded.roles.length === 0) return principal;
    const teams = [...new Set([...principal.teams, ...recorded.teams])];
    const roles = [...new Set<Role>([...principal.roles, ...recorded.roles])];
    return { ...principal, teams, roles };
  }

  #accessOf(email: string): Promise<RecordedAccess> {
    const key = email.toLowerCase();
    const now = this.#now();
    const cached = this.#cache.get(key);
    if (cached && now - cached.at < this.#ttlMs) return cached.access;
    const access = this.records.accessOf(key);
    // A failed read is not remembered: the next request asks the store again.
    access.catch(() => this.#cache.delete(key));
    this.#cache.delete(key);
    if (this.#cache.size >= MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(key, { access, at: now });
    return access;
  }
}

const shared = new WeakMap<KeyledgerApp, TeamAccess>();

/** The app's one TeamAccess: the API and the dashboard see each other's changes at once. */
export function teamAccessOf(app: KeyledgerApp, clock: Clock): TeamAccess {
  let found = shared.get(app);
  if (!found) {
    found = new TeamAccess(new TeamRecords({ db: app.operational.db, events: app.events, clock }));
    shared.set(app, found);
  }
  return found;
}
