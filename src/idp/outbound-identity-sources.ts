// The identity providers keyledger reads and acts on (src/directory/identity-source.ts IdentitySource): Okta,
// Microsoft Entra ID and Google Workspace, by name, each with the schema of its options. These are the entries
// src/idp/identity-source-table.ts joins with the inbound sources (the HR file, SCIM). Options come from
// `identity-sources.json` beside the registry's other local state (tokens have no place in the registry):
// `{ "okta": { "orgUrl": ..., "token": ... }, "entra": {...}, "google": {...} }`.
import type { z } from 'zod';
import type { IdentitySource } from '../directory/identity-source.js';
import { ConfigError } from '../errors/keyledger-error.js';
import { EntraIdentitySource, entraSourceOptionsSchema } from './entra/entra-identity-source.js';
import { GoogleIdentitySource, googleSourceOptionsSchema } from './google/google-identity-source.js';
import { OktaIdentitySource, oktaSourceOptionsSchema } from './okta/okta-identity-source.js';

export interface OutboundIdentitySourceEntry {
  /** What the source does, for `offboard --help` and errors. */
  description: string;
  options: z.ZodType;
  create(options: Record<string, unknown>, context: OutboundSourceContext): IdentitySource;
}

export interface OutboundSourceContext {
  /** Where relative paths in the options (Google's `keyFile`) are read from: the identity-sources file's folder. */
  baseDir: string;
}

export const OUTBOUND_IDENTITY_SOURCES = {
  okta: {
    description: 'Okta Users API (reconciliation) and user sessions (revocation with OAuth tokens)',
    options: oktaSourceOptionsSchema,
    create: (options) => new OktaIdentitySource(oktaSourceOptionsSchema.parse(options)),
  },
  entra: {
    description: 'Microsoft Graph users delta (reconciliation) and revokeSignInSessions',
    options: entraSourceOptionsSchema,
    create: (options) => new EntraIdentitySource(entraSourceOptionsSchema.parse(options)),
  },
  google: {
    description:
      'Google Workspace Directory API users.list (reconciliation) and users.signOut, as a service account acting as an admin',
    options: googleSourceOptionsSchema,
    create: (options, context) =>
      new GoogleIdentitySource(googleSourceOptionsSchema.parse(options), { baseDir: context.baseDir }),
  },
} satisfies Record<string, OutboundIdentitySourceEntry>;

export type OutboundIdentitySourceName = keyof typeof OUTBOUND_IDENTITY_SOURCES;

/** Builds one configured source; an unknown name or bad options is a ConfigError naming the field (never a value). */
export function outboundIdentitySource(
  name: string,
  options: Record<string, unknown>,
  context: OutboundSourceContext = { baseDir: process.cwd() },
): IdentitySource {
  const entry = (OUTBOUND_IDENTITY_SOURCES as Record<string, OutboundIdentitySourceEntry>)[name];
  if (!entry)
    throw new ConfigError(
      `unknown identity source "${name}"; known: ${Object.keys(OUTBOUND_IDENTITY_SOURCES).join(', ')}`,
      { code: 'E_IDENTITY_SOURCE_CONFIG' },
    );
  const parsed = entry.options.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`identity source ${name}: ${issue.path.join('.') || 'options'}: ${issue.message}`, {
      code: 'E_IDENTITY_SOURCE_CONFIG',
    });
  }
  return entry.create(parsed.data as Record<string, unknown>, context);
}

/** Every source configured in an `identity-sources.json` object. */
export function outboundIdentitySources(
  config: Record<string, unknown>,
  context: OutboundSourceContext = { baseDir: process.cwd() },
): IdentitySource[] {
  return Object.entries(config).map(([name, options]) =>
    outboundIdentitySource(name, (options ?? {}) as Record<string, unknown>, context),
  );
}
