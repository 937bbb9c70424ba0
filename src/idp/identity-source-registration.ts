// What an identity source's folder declares in its `index.ts` (its name, one line for help, how to build it), and
// what building one gets: the shape of the provider and ticket-sink tables. src/idp/identity-source-table.ts
// assembles the registrations, keyed by name; the core reaches sources only through that table.
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import type { IdentitySource } from '../directory/identity-source.js';
import type { Clock } from '../runtime/clock.js';
import type { ServerModule } from '../server/server-module.js';

export interface IdentitySourceContext {
  env: NodeJS.ProcessEnv;
  /** Relative paths (the HR file) are resolved against this: the registry root. */
  cwd: string;
  clock: Clock;
  /** The operational store, for sources that keep what they heard in the directory (SCIM). */
  db: Kysely<OperationalSchema>;
}

export interface IdentitySourceRegistration {
  name: string;
  /** One line for help and errors: what the source is and what its options are. */
  description: string;
  /** Builds the source from its options (`keyledger.config.yaml` or the providers file); credentials from env. */
  create(options: Record<string, unknown>, context: IdentitySourceContext): IdentitySource;
  /** The HTTP surface through which the source pushes to us, when it has one (SCIM). */
  serverModule?: () => ServerModule;
}
