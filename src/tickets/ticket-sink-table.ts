// Every ticket sink, registered by kind. The rotation controller asks this table for the configured sink and never
// imports a sink's folder. Configuration: `--tickets markdown:<dir>`, `github:<owner/repo>`, `jira:<PROJECT>`, with
// credentials from the environment (GITHUB_TOKEN; JIRA_URL, JIRA_EMAIL, JIRA_API_TOKEN).
import { resolve } from 'node:path';
import { ConfigError } from '../errors/keyledger-error.js';
import { GithubTicketSink } from './github/github-ticket-sink.js';
import { JiraTicketSink } from './jira/jira-ticket-sink.js';
import { MarkdownTicketSink } from './markdown/markdown-ticket-sink.js';
import type { TicketSink } from './ticket-sink.js';

export interface TicketSinkContext {
  env: NodeJS.ProcessEnv;
  /** Relative Markdown directories are resolved against this (the command's working directory). */
  cwd?: string;
}

export const ticketSinkTable: Readonly<Record<string, (target: string, context: TicketSinkContext) => TicketSink>> = {
  markdown: (directory, { cwd }) => new MarkdownTicketSink({ directory: resolve(cwd ?? process.cwd(), directory) }),
  github: (repository, { env }) =>
    new GithubTicketSink({
      repository,
      token: required(env, 'GITHUB_TOKEN', 'github'),
      ...(env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {}),
    }),
  jira: (projectKey, { env }) =>
    new JiraTicketSink({
      projectKey,
      baseUrl: required(env, 'JIRA_URL', 'jira'),
      email: required(env, 'JIRA_EMAIL', 'jira'),
      apiToken: required(env, 'JIRA_API_TOKEN', 'jira'),
      ...(env.JIRA_ISSUE_TYPE ? { issueType: env.JIRA_ISSUE_TYPE } : {}),
    }),
};

/** Builds a sink from `<kind>:<target>`, e.g. `markdown:tickets/`, `github:acme/key-rotations`, `jira:SEC`. */
export function createTicketSink(spec: string, context: TicketSinkContext): TicketSink {
  const colon = spec.indexOf(':');
  const kind = colon > 0 ? spec.slice(0, colon) : spec;
  const target = colon > 0 ? spec.slice(colon + 1) : '';
  const factory = Object.hasOwn(ticketSinkTable, kind) ? ticketSinkTable[kind] : undefined;
  if (!factory || !target) {
    throw new ConfigError(
      `ticket sink "${spec}": expected <kind>:<target> with kind one of ${Object.keys(ticketSinkTable).join(', ')} (e.g. markdown:tickets)`,
      { code: 'E_TICKET_SINK_CONFIG' },
    );
  }
  return factory(target, context);
}

function required(env: NodeJS.ProcessEnv, name: string, kind: string): string {
  const value = env[name];
  if (!value)
    throw new ConfigError(`the ${kind} ticket sink needs ${name} in the environment`, { code: 'E_TICKET_SINK_CONFIG' });
  return value;
}
