// The SCIM source's registration, read by src/idp/identity-source-table.ts: the people SCIM clients provisioned,
// and the `/scim/v2` server module through which they do.
import type { IdentitySourceRegistration } from '../identity-source-registration.js';
import { createScimModule, SCIM_SOURCE } from './scim-module.js';
import { ScimSource } from './scim-source.js';

export const scimSourceRegistration: IdentitySourceRegistration = {
  name: SCIM_SOURCE,
  description: 'the SCIM 2.0 server at /scim/v2 (Okta, Entra push to it); no options, a token from `idp token create`',
  create: (_options, context) => new ScimSource({ db: context.db, clock: context.clock }),
  serverModule: createScimModule,
};
