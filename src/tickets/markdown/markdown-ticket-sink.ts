// Rotation tickets as Markdown files in a directory (a docs repo, a shared drive): one file per ticket, its state
// in a front-matter line, closing and escalation appended as comments.

import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dedupeMarker } from '../rotation-ticket.js';
import type { RotationTicket, TicketRef, TicketSink } from '../ticket-sink.js';

export interface MarkdownTicketSinkOptions {
  directory: string;
}

export class MarkdownTicketSink implements TicketSink {
  readonly kind = 'markdown';
  readonly #directory: string;

  constructor(options: MarkdownTicketSinkOptions) {
    this.#directory = options.directory;
  }

  async findOpen(dedupeKey: string): Promise<TicketRef | undefined> {
    const file = fileNameFor(dedupeKey);
    const text = await readFile(join(this.#directory, file), 'utf8').catch(() => undefined);
    if (!text?.includes(dedupeMarker(dedupeKey)) || !/^state: open$/m.test(text)) return undefined;
    return { id: file, url: join(this.#directory, file) };
  }

  async open(ticket: RotationTicket): Promise<TicketRef> {
    await mkdir(this.#directory, { recursive: true });
    const file = fileNameFor(ticket.dedupeKey);
    const front = [
      '---',
      `title: ${JSON.stringify(ticket.title)}`,
      'state: open',
      `owner_team: ${ticket.ownerTeam}`,
      `due: ${ticket.dueAt.toISOString()}`,
      `labels: [${ticket.labels.join(', ')}]`,
      '---',
      '',
    ];
    await writeFile(join(this.#directory, file), `${front.join('\n')}# ${ticket.title}\n\n${ticket.body}\n`);
    return { id: file, url: join(this.#directory, file) };
  }

  async close(ref: TicketRef, comment: string): Promise<void> {
    const path = join(this.#directory, ref.id);
    const text = await readFile(path, 'utf8');
    await writeFile(path, `${text.replace(/^state: open$/m, 'state: closed')}\n---\n**Closed:** ${comment}\n`);
  }

  async escalate(ref: TicketRef, team: string, comment: string): Promise<void> {
    const path = join(this.#directory, ref.id);
    const text = await readFile(path, 'utf8');
    await writeFile(path, `${text}\n---\n**Escalated to ${team}:** ${comment}\n`);
  }

  /** Every ticket file, for listings and tests. */
  async files(): Promise<string[]> {
    return (await readdir(this.#directory).catch(() => [])).filter((name) => name.endsWith('.md')).sort();
  }
}

function fileNameFor(dedupeKey: string): string {
  const keyId = dedupeKey.slice(0, dedupeKey.lastIndexOf('@')).replace(/[^A-Za-z0-9._-]/g, '_');
  return `${keyId}--${createHash('sha256').update(dedupeKey).digest('hex').slice(0, 10)}.md`;
}
