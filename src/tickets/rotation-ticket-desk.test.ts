// Rotation tickets through each sink (Markdown files, GitHub issues, Jira) on both engines: the template,
// one ticket per due key across re-runs and across a crash between opening and recording, escalation to the owning
// team once overdue, and closing when the registry shows the rotation.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { analyzeEntryText } from '../registry/entry-analysis.js';
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { SEED_EXAMPLE } from '../registry/test-support/registry-fixtures.js';
import { fixedClock } from '../runtime/clock.js';
import { GithubTicketSink } from './github/github-ticket-sink.js';
import { JiraTicketSink } from './jira/jira-ticket-sink.js';
import { MarkdownTicketSink } from './markdown/markdown-ticket-sink.js';
import { rotationDedupeKey } from './rotation-ticket.js';
import { RotationTicketDesk } from './rotation-ticket-desk.js';
import { startGithubIssuesServer, startJiraServer } from './test-support/ticket-servers.js';
import type { TicketSink } from './ticket-sink.js';

const entry = analyzeEntryText('keys/payments-stripe-live.yaml', SEED_EXAMPLE).entry as KeyEntry;
const dueAt = new Date('2027-04-01T10:00:00Z');

interface SinkCase {
  name: string;
  make(): Promise<{
    sink: TicketSink;
    texts(): Promise<string[]>;
    openCount(): Promise<number>;
    escalations(): Promise<string[]>;
  }>;
}

const servers: Array<{ stop(): Promise<void> }> = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

const sinkCases: SinkCase[] = [
  {
    name: 'markdown',
    make: async () => {
      const directory = await mkdtemp(join(tmpdir(), 'keyledger-tickets-'));
      const sink = new MarkdownTicketSink({ directory });
      const texts = async () =>
        Promise.all((await sink.files()).map((file) => readFile(join(directory, file), 'utf8')));
      return {
        sink,
        texts,
        openCount: async () => (await texts()).filter((text) => /^state: open$/m.test(text)).length,
        escalations: async () => (await texts()).flatMap((text) => text.match(/Escalated to [a-z-]+/g) ?? []),
      };
    },
  },
  {
    name: 'github',
    make: async () => {
      const server = await startGithubIssuesServer('ghs_testtoken');
      servers.push(server);
      const sink = new GithubTicketSink({
        baseUrl: server.url,
        repository: 'acme/key-rotations',
        token: 'ghs_testtoken',
      });
      return {
        sink,
        texts: async () => server.issues.map((issue) => `${issue.title}\n${issue.body}`),
        openCount: async () => server.issues.filter((issue) => issue.state === 'open').length,
        escalations: async () =>
          server.issues.flatMap((issue) =>
            issue.comments.filter((comment) => comment.startsWith('@acme/')).map((comment) => comment.split(' ')[0]!),
          ),
      };
    },
  },
  {
    name: 'jira',
    make: async () => {
      const server = await startJiraServer('bot@example.com', 'jira-token');
      servers.push(server);
      const sink = new JiraTicketSink({
        baseUrl: server.url,
        projectKey: 'SEC',
        email: 'bot@example.com',
        apiToken: 'jira-token',
      });
      return {
        sink,
        texts: async () => server.issues.map((issue) => `${issue.fields.summary}\n${issue.fields.description}`),
        openCount: async () => server.issues.filter((issue) => issue.status !== 'Done').length,
        escalations: async () =>
          server.issues.flatMap((issue) => issue.fields.labels.filter((label) => label.startsWith('escalated-'))),
      };
    },
  },
];

forEachBackend((backend) => {
  for (const sinkCase of sinkCases) {
    describe(sinkCase.name, () => {
      beforeEach(async () => {
        await (await backend.sharedStore()).db.deleteFrom('rotation_tickets').execute();
      });

      it('opens one ticket from the article template, and only one across re-runs', async () => {
        const { sink, texts, openCount } = await sinkCase.make();
        const desk = new RotationTicketDesk({
          db: (await backend.sharedStore()).db,
          sink,
          clock: fixedClock('2027-03-20T00:00:00Z'),
        });
        const first = await desk.ensureTicket({ entry, dueAt });
        const again = await desk.ensureTicket({ entry, dueAt });
        expect(first.created).toBe(true);
        expect(again).toMatchObject({ created: false, id: first.id });
        expect(await openCount()).toBe(1);
        const [text] = await texts();
        expect(text).toContain('Rotate payments-stripe-live-001 (due 2027-04-01)');
        expect(text).toContain('Owner: alice@example.com / payments');
        expect(text).toContain('Provider: stripe');
        expect(text).toContain('Vault path: secret/payments/stripe-live');
        for (const step of [
          'Mint new key in stripe UI',
          'Update Vault path',
          'Confirm consumers using new key (synthetic test)',
          'Revoke old key in stripe UI',
          "Update registry's last_rotated timestamp",
        ]) {
          expect(text).toContain(`- [ ] ${step}`);
        }
      });

      it('a crash between opening the ticket and recording it does not open a second one', async () => {
        const { sink, openCount } = await sinkCase.make();
        const db = (await backend.sharedStore()).db;
        const desk = new RotationTicketDesk({ db, sink, clock: fixedClock('2027-03-20T00:00:00Z') });
        await desk.ensureTicket({ entry, dueAt });
        // As if the process died after the sink answered: the ledger row is back at its intent.
        await db.updateTable('rotation_tickets').set({ state: 'opening', external_id: null }).execute();
        expect((await desk.ensureTicket({ entry, dueAt })).created).toBe(false);
        expect(await openCount()).toBe(1);
      });

      it('escalates an overdue ticket to the owning team once, and closes it when the registry shows the rotation', async () => {
        const { sink, openCount, escalations } = await sinkCase.make();
        const clock = fixedClock('2027-03-20T00:00:00Z');
        const desk = new RotationTicketDesk({
          db: (await backend.sharedStore()).db,
          sink,
          clock,
          escalateAfterDays: 3,
        });
        await desk.ensureTicket({ entry, dueAt });
        expect(await desk.sweep([{ file: 'k.yaml', entry }])).toEqual({ closed: [], escalated: [] });
        clock.set('2027-04-05T00:00:00Z');
        expect((await desk.sweep([{ file: 'k.yaml', entry }])).escalated).toEqual([entry.key_id]);
        expect((await desk.sweep([{ file: 'k.yaml', entry }])).escalated).toEqual([]);
        expect((await escalations()).length).toBe(1);
        expect((await escalations())[0]).toContain('payments');
        const rotated = { ...entry, last_rotated: '2027-04-06T09:00:00Z' };
        expect(rotationDedupeKey(rotated)).not.toBe(rotationDedupeKey(entry));
        expect((await desk.sweep([{ file: 'k.yaml', entry: rotated }])).closed).toEqual([entry.key_id]);
        expect(await openCount()).toBe(0);
      });
    });
  }
});

it('a sink error names the status and never the token', async () => {
  const server = await startGithubIssuesServer('ghs_right');
  servers.push(server);
  const sink = new GithubTicketSink({ baseUrl: server.url, repository: 'acme/r', token: 'ghs_wrong_canary_token' });
  const error = await sink
    .open({ dedupeKey: 'k@x', keyId: 'k', title: 't', body: 'b', ownerTeam: 'x', dueAt, labels: [] })
    .catch((caught: Error) => caught);
  expect(String((error as Error).message)).toContain('401');
  expect(JSON.stringify(error)).not.toContain('ghs_wrong_canary_token');
});
