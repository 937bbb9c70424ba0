// The dashboard's login settings, from the server's configuration or the environment, validated at start: the
// OIDC issuer and client, and which ID-token claims carry a person's roles and teams (docs/dashboard.md).
import { z } from 'zod';
import { ConfigError } from '../errors/keyledger-error.js';
import { ROLES, type Role } from '../server/access.js';

export const oidcSettingsSchema = z.object({
  issuer: z.url(),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1).optional(),
  /** Claim holding the roles (a string or an array); its values are mapped through roleMap. */
  rolesClaim: z.string().min(1).default('roles'),
  teamsClaim: z.string().min(1).default('teams'),
  emailClaim: z.string().min(1).default('email'),
  /** Claim value -> role, for directories whose group names differ (`keyledger-admins` -> admin). */
  roleMap: z.record(z.string(), z.enum(ROLES)).default({}),
  scope: z.string().default('openid email profile'),
  /** Plain-HTTP issuer (a local test provider): refused unless said. */
  allowInsecureIssuer: z.boolean().default(false),
});

export type OidcSettings = z.output<typeof oidcSettingsSchema>;
export type OidcSettingsInput = z.input<typeof oidcSettingsSchema>;

/** The environment form: KEYLEDGER_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET, _ROLES_CLAIM, _TEAMS_CLAIM, ... */
export function oidcSettingsFromEnv(env: NodeJS.ProcessEnv): OidcSettings | undefined {
  if (!env.KEYLEDGER_OIDC_ISSUER) return undefined;
  const roleMap: Record<string, string> = {};
  for (const pair of (env.KEYLEDGER_OIDC_ROLE_MAP ?? '').split(',').filter(Boolean)) {
    const [value, role] = pair.split('=');
    if (value && role) roleMap[value.trim()] = role.trim();
  }
  return parseOidcSettings(
    {
      issuer: env.KEYLEDGER_OIDC_ISSUER,
      clientId: env.KEYLEDGER_OIDC_CLIENT_ID,
      clientSecret: env.KEYLEDGER_OIDC_CLIENT_SECRET || undefined,
      rolesClaim: env.KEYLEDGER_OIDC_ROLES_CLAIM || undefined,
      teamsClaim: env.KEYLEDGER_OIDC_TEAMS_CLAIM || undefined,
      emailClaim: env.KEYLEDGER_OIDC_EMAIL_CLAIM || undefined,
      scope: env.KEYLEDGER_OIDC_SCOPE || undefined,
      roleMap,
      allowInsecureIssuer: env.KEYLEDGER_OIDC_ALLOW_INSECURE === '1',
    },
    'environment (KEYLEDGER_OIDC_*)',
  );
}

export function parseOidcSettings(input: unknown, source: string): OidcSettings {
  const parsed = oidcSettingsSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      `${source}: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`,
      { code: 'E_WEB_CONFIG' },
    );
  }
  return parsed.data;
}

/** Roles from a claim's value(s): mapped values first, then values that name a role. */
export function rolesFromClaim(value: unknown, roleMap: Readonly<Record<string, Role>>): Role[] {
  const values = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  const roles = new Set<Role>();
  for (const item of values) {
    if (typeof item !== 'string') continue;
    const mapped = roleMap[item] ?? ((ROLES as readonly string[]).includes(item) ? (item as Role) : undefined);
    if (mapped) roles.add(mapped);
  }
  return [...roles];
}

export function teamsFromClaim(value: unknown): string[] {
  const values = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  return [...new Set(values.filter((item): item is string => typeof item === 'string' && item.length > 0))];
}
