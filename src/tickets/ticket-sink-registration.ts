// What a ticket sink's folder declares in its `index.ts` (its kind, one line for help, how to build it from the
// `<kind>:<target>` spec), and the kinds ticket-sink-table.ts must cover: the table is a Record over
// TicketSinkKind, so a kind without a registration fails to compile — the shape of the provider table.
import { ConfigError } from '../errors/keyledger-error.js';
import type { TicketSink } from './ticket-sink.js';

export type TicketSinkKind = 'github' | 'jira' | 'markdown';

export interface TicketSinkContext {
  env: NodeJS.ProcessEnv;
  /** Relative Markdown directories are resolved against this (the command's working directory). */
  cwd?: string;
}

export interface TicketSinkRegistration<Kind extends TicketSinkKind = TicketSinkKind> {
  kind: Kind;
  /** What `<target>` means for this kind, for errors and `--help`. */
  target: string;
  /** Builds the sink for `target` (a directory, `owner/repo`, a project key); credentials come from the env. */
  create(target: string, context: TicketSinkContext): TicketSink;
}

/** An environment variable a sink cannot work without, or a ConfigError naming it. */
export function requiredTicketSinkEnv(env: NodeJS.ProcessEnv, name: string, kind: TicketSinkKind): string {
  const value = env[name];
  if (!value)
    throw new ConfigError(`the ${kind} ticket sink needs ${name} in the environment`, { code: 'E_TICKET_SINK_CONFIG' });
  return value;
}
