// Rotation tickets as GitHub issues, through the documented REST API (github/rest-api-description): create an
// issue, list open issues by label to find one again, comment, label, and close it as completed.
import { request } from 'undici';
import { dedupeMarker, ROTATION_TICKET_LABEL } from '../rotation-ticket.js';
import type { RotationTicket, TicketRef, TicketSink } from '../ticket-sink.js';
import { TicketSinkError } from '../ticket-sink-error.js';

export interface GithubTicketSinkOptions {
  /** `https://api.github.com`, or a GitHub Enterprise / test server's API root. */
  baseUrl?: string;
  /** `owner/name` of the repository that holds the tickets. */
  repository: string;
  token: string;
  /** How a team is mentioned when a ticket escalates: `@<org>/<team>` by default. */
  teamMention?: (team: string) => string;
}

interface GithubIssue {
  number: number;
  html_url?: string;
  body?: string | null;
  state?: string;
  pull_request?: unknown;
}

export class GithubTicketSink implements TicketSink {
  readonly kind = 'github';
  readonly #options: Required<Omit<GithubTicketSinkOptions, 'teamMention'>> &
    Pick<GithubTicketSinkOptions, 'teamMention'>;

  constructor(options: GithubTicketSinkOptions) {
    this.#options = { baseUrl: 'https://api.github.com', ...options };
  }

  async findOpen(dedupeKey: string): Promise<TicketRef | undefined> {
    const marker = dedupeMarker(dedupeKey);
    for (let page = 1; page <= 50; page++) {
      const issues = await this.#call<GithubIssue[]>(
        'GET',
        `/repos/${this.#options.repository}/issues?state=open&labels=${encodeURIComponent(ROTATION_TICKET_LABEL)}&per_page=100&page=${page}`,
      );
      const found = issues.find((issue) => !issue.pull_request && issue.body?.includes(marker));
      if (found) return toRef(found);
      if (issues.length < 100) return undefined;
    }
    return undefined;
  }

  async open(ticket: RotationTicket): Promise<TicketRef> {
    const issue = await this.#call<GithubIssue>('POST', `/repos/${this.#options.repository}/issues`, {
      title: ticket.title,
      body: ticket.body,
      labels: ticket.labels,
    });
    return toRef(issue);
  }

  async close(ref: TicketRef, comment: string): Promise<void> {
    await this.#call('POST', `/repos/${this.#options.repository}/issues/${ref.id}/comments`, { body: comment });
    await this.#call('PATCH', `/repos/${this.#options.repository}/issues/${ref.id}`, {
      state: 'closed',
      state_reason: 'completed',
    });
  }

  async escalate(ref: TicketRef, team: string, comment: string): Promise<void> {
    const owner = this.#options.repository.split('/')[0];
    const mention = this.#options.teamMention?.(team) ?? `@${owner}/${team}`;
    await this.#call('POST', `/repos/${this.#options.repository}/issues/${ref.id}/comments`, {
      body: `${mention} ${comment}`,
    });
    await this.#call('POST', `/repos/${this.#options.repository}/issues/${ref.id}/labels`, { labels: ['escalated'] });
  }

  async #call<T = unknown>(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<T> {
    const response = await request(`${this.#options.baseUrl.replace(/\/+$/, '')}${path}`, {
      method,
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${this.#options.token}`,
        'x-github-api-version': '2022-11-28',
        'user-agent': 'keyledger',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.body.text();
    if (response.statusCode >= 300) {
      const message = safeMessage(text, this.#options.token);
      throw new TicketSinkError(
        'github',
        `${method} ${path.split('?')[0]} answered ${response.statusCode}${message ? `: ${message}` : ''}`,
        response.statusCode,
      );
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

function toRef(issue: GithubIssue): TicketRef {
  return { id: String(issue.number), ...(issue.html_url ? { url: issue.html_url } : {}) };
}

function safeMessage(text: string, token: string): string {
  let message = '';
  try {
    message = String((JSON.parse(text) as { message?: unknown }).message ?? '');
  } catch {
    message = text.slice(0, 200);
  }
  return message.split(token).join('[REDACTED]');
}
