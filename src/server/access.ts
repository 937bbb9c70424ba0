// Who is asking, and what they may see or do: the one access policy of the HTTP API, the dashboard and the SCIM
// and webhook endpoints (docs/server.md). Roles: a team `member` sees and acts on their teams' keys; `security`
// sees every key and reveals no secret; `admin` also manages teams, people and tokens. A principal comes from an
// API token (src/server/auth/), a dashboard session (OIDC login or the local admin bootstrap, src/web/) or an
// identity provider's bearer token (SCIM, Okta event hooks).
export const ROLES = ['member', 'security', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** How the caller proved who they are. */
  kind: 'api-token' | 'session' | 'local-admin' | 'identity-provider';
  /** Stable id of the caller: the token's key id, the person's email, `local-admin`, the IdP integration name. */
  subject: string;
  /** The person behind the principal, where there is one. */
  email?: string;
  roles: readonly Role[];
  /** Teams whose keys a `member` sees and acts on. */
  teams: readonly string[];
  /** API-token scopes (`keys:read`, `keys:write`, `scim`, ...); sessions carry `*`. */
  scopes: readonly string[];
}

/** The part of a registry entry access is decided on. */
export interface KeyOwnership {
  team?: string | undefined;
  individual?: string | undefined;
}

export function hasRole(principal: Principal, role: Role): boolean {
  return principal.roles.includes(role) || (role !== 'admin' && principal.roles.includes('admin'));
}

export function hasScope(principal: Principal, scope: string): boolean {
  return principal.scopes.includes('*') || principal.scopes.includes(scope);
}

/** Sees the entry (metadata, history, findings, usage): security and admin see all; members their teams'. */
export function canReadKey(principal: Principal, key: KeyOwnership): boolean {
  if (hasRole(principal, 'security')) return true;
  return (
    (key.team !== undefined && principal.teams.includes(key.team)) ||
    (principal.email !== undefined && key.individual?.toLowerCase() === principal.email.toLowerCase())
  );
}

/** Issues, rotates, revokes: admins for every key, members for their teams' keys; security only reads. */
export function canActOnKey(principal: Principal, key: KeyOwnership): boolean {
  if (hasRole(principal, 'admin')) return true;
  if (!principal.roles.includes('member')) return false;
  return key.team !== undefined && principal.teams.includes(key.team);
}

/** Approves a broad-scope key request (Step 2's portal): the security role. */
export function canApproveRequest(principal: Principal): boolean {
  return hasRole(principal, 'security');
}
