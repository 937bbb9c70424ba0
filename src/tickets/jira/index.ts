// Rotation tickets as Jira issues: the sink's registration, read by tickets/ticket-sink-table.ts. The site and
// credentials come from JIRA_URL, JIRA_EMAIL and JIRA_API_TOKEN; JIRA_ISSUE_TYPE picks the issue type.
import { requiredTicketSinkEnv, type TicketSinkRegistration } from '../ticket-sink-registration.js';
import { JiraTicketSink } from './jira-ticket-sink.js';

export const jiraTicketSinkRegistration: TicketSinkRegistration<'jira'> = {
  kind: 'jira',
  target: 'a project key',
  create: (projectKey, { env }) =>
    new JiraTicketSink({
      projectKey,
      baseUrl: requiredTicketSinkEnv(env, 'JIRA_URL', 'jira'),
      email: requiredTicketSinkEnv(env, 'JIRA_EMAIL', 'jira'),
      apiToken: requiredTicketSinkEnv(env, 'JIRA_API_TOKEN', 'jira'),
      ...(env.JIRA_ISSUE_TYPE ? { issueType: env.JIRA_ISSUE_TYPE } : {}),
    }),
};
