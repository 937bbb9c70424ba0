// Rotation tickets as Jira issues, through Jira's documented REST API v2: create an issue (with a due date and
// labels), search by JQL to find one again, comment, add a label, and close it through a transition to Done.
import { createHash } from 'node:crypto';
import { request } from 'undici';
import { ROTATION_TICKET_LABEL } from '../rotation-ticket.js';
import type { RotationTicket, TicketRef, TicketSink } from '../ticket-sink.js';
import { TicketSinkError } from '../ticket-sink-error.js';

export interface JiraTicketSinkOptions {
  /** The site, e.g. `https://example.atlassian.net`. */
  baseUrl: string;
  projectKey: string;
  /** Jira Cloud: the account email and an API token (basic auth). */
  email: string;
  apiToken: string;
  issueType?: string;
}

interface JiraTransition {
  id: string;
  name?: string;
  to?: { statusCategory?: { key?: string } };
}

export class JiraTicketSink implements TicketSink {
  readonly kind = 'jira';
  readonly #options: JiraTicketSinkOptions;

  constructor(options: JiraTicketSinkOptions) {
    this.#options = options;
  }

  async findOpen(dedupeKey: string): Promise<TicketRef | undefined> {
    const jql = `project = "${this.#options.projectKey}" AND labels = "${dedupeLabel(dedupeKey)}" AND statusCategory != Done`;
    const found = await this.#call<{ issues?: Array<{ key: string }> }>('POST', '/rest/api/2/search', {
      jql,
      fields: ['summary'],
      maxResults: 1,
    });
    const issue = found.issues?.[0];
    return issue ? this.#ref(issue.key) : undefined;
  }

  async open(ticket: RotationTicket): Promise<TicketRef> {
    const created = await this.#call<{ key: string }>('POST', '/rest/api/2/issue', {
      fields: {
        project: { key: this.#options.projectKey },
        summary: ticket.title,
        description: ticket.body,
        issuetype: { name: this.#options.issueType ?? 'Task' },
        duedate: ticket.dueAt.toISOString().slice(0, 10),
        // Jira labels take no spaces or colons: the team label is rewritten, the dedupe key hashed.
        labels: [
          ...ticket.labels.map((label) => label.replace(/[^A-Za-z0-9_.-]/g, '-')),
          dedupeLabel(ticket.dedupeKey),
        ],
      },
    });
    return this.#ref(created.key);
  }

  async close(ref: TicketRef, comment: string): Promise<void> {
    await this.#call('POST', `/rest/api/2/issue/${ref.id}/comment`, { body: comment });
    const { transitions = [] } = await this.#call<{ transitions?: JiraTransition[] }>(
      'GET',
      `/rest/api/2/issue/${ref.id}/transitions`,
    );
    const done =
      transitions.find((transition) => transition.to?.statusCategory?.key === 'done') ??
      transitions.find((transition) => /done|close|resolve/i.test(transition.name ?? ''));
    if (!done) throw new TicketSinkError('jira', `issue ${ref.id} offers no transition to a Done status`);
    await this.#call('POST', `/rest/api/2/issue/${ref.id}/transitions`, { transition: { id: done.id } });
  }

  async escalate(ref: TicketRef, team: string, comment: string): Promise<void> {
    await this.#call('POST', `/rest/api/2/issue/${ref.id}/comment`, { body: `Escalated to team ${team}: ${comment}` });
    await this.#call('PUT', `/rest/api/2/issue/${ref.id}`, {
      update: { labels: [{ add: 'escalated' }, { add: `escalated-${team.replace(/[^A-Za-z0-9_.-]/g, '-')}` }] },
    });
  }

  #ref(key: string): TicketRef {
    return { id: key, url: `${this.#options.baseUrl.replace(/\/+$/, '')}/browse/${key}` };
  }

  async #call<T = unknown>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    const auth = Buffer.from(`${this.#options.email}:${this.#options.apiToken}`).toString('base64');
    const response = await request(`${this.#options.baseUrl.replace(/\/+$/, '')}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        authorization: `Basic ${auth}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.body.text();
    if (response.statusCode >= 300) {
      let message = '';
      try {
        const parsed = JSON.parse(text) as { errorMessages?: string[]; errors?: Record<string, string> };
        message = [
          ...(parsed.errorMessages ?? []),
          ...Object.entries(parsed.errors ?? {}).map(([field, error]) => `${field}: ${error}`),
        ].join('; ');
      } catch {
        message = text.slice(0, 200);
      }
      throw new TicketSinkError(
        'jira',
        `${method} ${path} answered ${response.statusCode}${message ? `: ${message.split(this.#options.apiToken).join('[REDACTED]')}` : ''}`,
        response.statusCode,
      );
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** The dedupe key as a Jira label (no spaces or `@`): a readable prefix and a hash. */
export function dedupeLabel(dedupeKey: string): string {
  return `${ROTATION_TICKET_LABEL}-${createHash('sha256').update(dedupeKey).digest('hex').slice(0, 12)}`;
}
