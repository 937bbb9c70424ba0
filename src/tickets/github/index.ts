// Rotation tickets as GitHub issues: the sink's registration, read by tickets/ticket-sink-table.ts. The token comes
// from GITHUB_TOKEN, the API root from GITHUB_API_URL (GitHub Enterprise, a sandbox).
import { requiredTicketSinkEnv, type TicketSinkRegistration } from '../ticket-sink-registration.js';
import { GithubTicketSink } from './github-ticket-sink.js';

export const githubTicketSinkRegistration: TicketSinkRegistration<'github'> = {
  kind: 'github',
  target: 'a repository, owner/name',
  create: (repository, { env }) =>
    new GithubTicketSink({
      repository,
      token: requiredTicketSinkEnv(env, 'GITHUB_TOKEN', 'github'),
      ...(env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {}),
    }),
};
