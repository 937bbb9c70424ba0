// Every ticket sink, registered by kind: each sink's folder declares its registration in its own `index.ts`, and
// the table is a Record over TicketSinkKind. The rotation controller asks this table for the configured sink and
// never imports a sink's folder. Configuration: `--tickets markdown:<dir>`, `github:<owner/repo>`, `jira:<PROJECT>`,
// with credentials from the environment (GITHUB_TOKEN; JIRA_URL, JIRA_EMAIL, JIRA_API_TOKEN).
import { ConfigError } from '../errors/keyledger-error.js';
import { githubTicketSinkRegistration } from './github/index.js';
import { jiraTicketSinkRegistration } from './jira/index.js';
import { markdownTicketSinkRegistration } from './markdown/index.js';
import type { TicketSink } from './ticket-sink.js';
import type { TicketSinkContext, TicketSinkKind, TicketSinkRegistration } from './ticket-sink-registration.js';

export type { TicketSinkContext, TicketSinkKind, TicketSinkRegistration } from './ticket-sink-registration.js';

export const ticketSinkTable: Readonly<{ [Kind in TicketSinkKind]: TicketSinkRegistration<Kind> }> = {
  github: githubTicketSinkRegistration,
  jira: jiraTicketSinkRegistration,
  markdown: markdownTicketSinkRegistration,
};

/** Builds a sink from `<kind>:<target>`, e.g. `markdown:tickets/`, `github:acme/key-rotations`, `jira:SEC`. */
export function createTicketSink(spec: string, context: TicketSinkContext): TicketSink {
  const colon = spec.indexOf(':');
  const kind = colon > 0 ? spec.slice(0, colon) : spec;
  const target = colon > 0 ? spec.slice(colon + 1) : '';
  const registration: TicketSinkRegistration | undefined = Object.hasOwn(ticketSinkTable, kind)
    ? ticketSinkTable[kind as TicketSinkKind]
    : undefined;
  if (!registration || !target) {
    throw new ConfigError(
      `ticket sink "${spec}": expected <kind>:<target> with kind one of ${Object.keys(ticketSinkTable).join(', ')} (e.g. markdown:tickets)`,
      { code: 'E_TICKET_SINK_CONFIG' },
    );
  }
  return registration.create(target, context);
}
