// Every identity source, by name (docs/offboarding.md): each source's folder declares its registration in its
// own `index.ts` and this table assembles them, one line each, as the provider and ticket-sink tables do. The
// core (the directory, offboarding, the CLI) creates sources through `createIdentitySource` and never imports a
// source's folder.

import type { IdentitySource } from '../directory/identity-source.js';
import { ConfigError } from '../errors/keyledger-error.js';
import { hrFileSourceRegistration } from './hr-file/index.js';
import type { IdentitySourceContext, IdentitySourceRegistration } from './identity-source-registration.js';
import { OUTBOUND_IDENTITY_SOURCES, outboundIdentitySource } from './outbound-identity-sources.js';
import { scimSourceRegistration } from './scim/index.js';

export type { IdentitySourceContext, IdentitySourceRegistration } from './identity-source-registration.js';

export const identitySourceTable: Readonly<Record<string, IdentitySourceRegistration>> = {
  'hr-file': hrFileSourceRegistration,
  scim: scimSourceRegistration,
  okta: outboundRegistration('okta'),
  entra: outboundRegistration('entra'),
  google: outboundRegistration('google'),
};

/** An outbound provider (src/idp/outbound-identity-sources.ts) as a table entry: its options checked by its schema. */
function outboundRegistration(name: keyof typeof OUTBOUND_IDENTITY_SOURCES): IdentitySourceRegistration {
  return {
    name,
    description: OUTBOUND_IDENTITY_SOURCES[name].description,
    create: (options, context) => outboundIdentitySource(name, options, { baseDir: context.cwd }),
  };
}

export function identitySourceRegistration(name: string): IdentitySourceRegistration | undefined {
  return Object.hasOwn(identitySourceTable, name) ? identitySourceTable[name] : undefined;
}

export function createIdentitySource(
  name: string,
  options: Record<string, unknown>,
  context: IdentitySourceContext,
): IdentitySource {
  const registration = identitySourceRegistration(name);
  if (!registration) {
    throw new ConfigError(`unknown identity source "${name}"; one of ${Object.keys(identitySourceTable).join(', ')}`, {
      code: 'E_IDENTITY_SOURCE',
    });
  }
  try {
    return registration.create(options, context);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`identity source "${name}": ${(error as Error).message}`, {
      code: 'E_IDENTITY_SOURCE',
      cause: error,
    });
  }
}
