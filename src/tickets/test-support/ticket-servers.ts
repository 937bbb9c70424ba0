// Small local servers that speak the endpoints the GitHub and Jira sinks call (the documented shapes: GitHub's
// issues, comments and labels; Jira's issue, search, comment and transitions), keeping what they were sent so tests
// can read it back. Each checks the credentials the sink must send.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Running {
  url: string;
  requests: string[];
  stop(): Promise<void>;
}

export interface GithubIssueRecord {
  number: number;
  title: string;
  body: string;
  labels: string[];
  state: 'open' | 'closed';
  state_reason?: string;
  comments: string[];
}

export interface JiraIssueRecord {
  key: string;
  fields: { summary: string; description: string; labels: string[]; duedate?: string; project: { key: string } };
  status: 'To Do' | 'Done';
  comments: string[];
}

export async function startGithubIssuesServer(token: string): Promise<Running & { issues: GithubIssueRecord[] }> {
  const issues: GithubIssueRecord[] = [];
  return listen(issues, async (req, body, send) => {
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { message: 'Bad credentials' });
    const url = new URL(req.url ?? '/', 'http://github');
    const path = url.pathname;
    let match: RegExpExecArray | null;
    if (req.method === 'GET' && /^\/repos\/[^/]+\/[^/]+\/issues$/.test(path)) {
      const label = url.searchParams.get('labels');
      const perPage = Number(url.searchParams.get('per_page') ?? 30);
      const page = Number(url.searchParams.get('page') ?? 1);
      const matching = issues.filter(
        (issue) =>
          issue.state === (url.searchParams.get('state') ?? 'open') && (!label || issue.labels.includes(label)),
      );
      return send(200, matching.slice((page - 1) * perPage, page * perPage).map(present));
    }
    if (req.method === 'POST' && /^\/repos\/[^/]+\/[^/]+\/issues$/.test(path)) {
      const input = JSON.parse(body) as { title?: string; body?: string; labels?: string[] };
      if (!input.title)
        return send(422, { message: 'Validation Failed', errors: [{ field: 'title', code: 'missing_field' }] });
      const issue: GithubIssueRecord = {
        number: issues.length + 1,
        title: input.title,
        body: input.body ?? '',
        labels: input.labels ?? [],
        state: 'open',
        comments: [],
      };
      issues.push(issue);
      return send(201, present(issue));
    }
    match = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)(\/comments|\/labels)?$/.exec(path);
    if (match) {
      const issue = issues.find((candidate) => candidate.number === Number(match![1]));
      if (!issue) return send(404, { message: 'Not Found' });
      const input = JSON.parse(body || '{}') as {
        body?: string;
        labels?: string[];
        state?: 'open' | 'closed';
        state_reason?: string;
      };
      if (req.method === 'POST' && match[2] === '/comments') {
        issue.comments.push(input.body ?? '');
        return send(201, { id: issue.comments.length, body: input.body });
      }
      if (req.method === 'POST' && match[2] === '/labels') {
        issue.labels.push(...(input.labels ?? []));
        return send(
          200,
          issue.labels.map((name) => ({ name })),
        );
      }
      if (req.method === 'PATCH' && !match[2]) {
        if (input.state) issue.state = input.state;
        if (input.state_reason) issue.state_reason = input.state_reason;
        return send(200, present(issue));
      }
    }
    return send(404, { message: 'Not Found' });
  }).then((running) => ({ ...running, issues }));
}

export async function startJiraServer(
  email: string,
  apiToken: string,
): Promise<Running & { issues: JiraIssueRecord[] }> {
  const issues: JiraIssueRecord[] = [];
  const expected = `Basic ${Buffer.from(`${email}:${apiToken}`).toString('base64')}`;
  return listen(issues, async (req, body, send) => {
    if (req.headers.authorization !== expected) return send(401, { errorMessages: ['Unauthorized'] });
    const path = new URL(req.url ?? '/', 'http://jira').pathname;
    let match: RegExpExecArray | null;
    if (req.method === 'POST' && path === '/rest/api/2/issue') {
      const input = JSON.parse(body) as { fields: JiraIssueRecord['fields'] };
      if (!input.fields?.summary)
        return send(400, { errorMessages: [], errors: { summary: 'You must specify a summary of the issue.' } });
      const issue: JiraIssueRecord = {
        key: `${input.fields.project.key}-${issues.length + 1}`,
        fields: { ...input.fields, labels: input.fields.labels ?? [] },
        status: 'To Do',
        comments: [],
      };
      issues.push(issue);
      return send(201, { id: String(issues.length), key: issue.key, self: `/rest/api/2/issue/${issue.key}` });
    }
    if (req.method === 'POST' && path === '/rest/api/2/search') {
      // The JQL the sink sends: project = "X" AND labels = "L" AND statusCategory != Done
      const { jql } = JSON.parse(body) as { jql: string };
      const project = /project = "([^"]+)"/.exec(jql)?.[1];
      const label = /labels = "([^"]+)"/.exec(jql)?.[1];
      const notDone = jql.includes('statusCategory != Done');
      const found = issues.filter(
        (issue) =>
          issue.fields.project.key === project &&
          (!label || issue.fields.labels.includes(label)) &&
          (!notDone || issue.status !== 'Done'),
      );
      return send(200, {
        startAt: 0,
        maxResults: 50,
        total: found.length,
        issues: found.map((issue) => ({ key: issue.key, fields: { summary: issue.fields.summary } })),
      });
    }
    match = /^\/rest\/api\/2\/issue\/([A-Z]+-\d+)(\/comment|\/transitions)?$/.exec(path);
    if (match) {
      const issue = issues.find((candidate) => candidate.key === match![1]);
      if (!issue)
        return send(404, { errorMessages: ['Issue does not exist or you do not have permission to see it.'] });
      const input = JSON.parse(body || '{}') as {
        body?: string;
        transition?: { id: string };
        update?: { labels?: Array<{ add?: string }> };
      };
      if (req.method === 'POST' && match[2] === '/comment') {
        issue.comments.push(input.body ?? '');
        return send(201, { id: String(issue.comments.length), body: input.body });
      }
      if (req.method === 'GET' && match[2] === '/transitions') {
        return send(200, {
          transitions: [
            { id: '11', name: 'In Progress', to: { statusCategory: { key: 'indeterminate' } } },
            { id: '31', name: 'Done', to: { statusCategory: { key: 'done' } } },
          ],
        });
      }
      if (req.method === 'POST' && match[2] === '/transitions') {
        if (input.transition?.id === '31') issue.status = 'Done';
        return send(204);
      }
      if (req.method === 'PUT' && !match[2]) {
        for (const change of input.update?.labels ?? []) if (change.add) issue.fields.labels.push(change.add);
        return send(204);
      }
    }
    return send(404, { errorMessages: ['Not Found'] });
  }).then((running) => ({ ...running, issues }));
}

function present(issue: GithubIssueRecord) {
  return {
    number: issue.number,
    html_url: `https://github.example/issues/${issue.number}`,
    title: issue.title,
    body: issue.body,
    state: issue.state,
    labels: issue.labels.map((name) => ({ name })),
  };
}

async function listen(
  _state: unknown,
  handle: (req: IncomingMessage, body: string, send: (status: number, body?: unknown) => void) => Promise<void>,
): Promise<Running> {
  const requests: string[] = [];
  const server: Server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`);
      const send = (status: number, body?: unknown) => {
        const text = body === undefined ? '' : JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(text);
      };
      handle(req, Buffer.concat(chunks).toString('utf8'), send).catch((error: unknown) =>
        send(500, { message: (error as Error).message }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
