// Rotation tickets as Markdown files: the sink's registration, read by tickets/ticket-sink-table.ts.
import { resolve } from 'node:path';
import type { TicketSinkRegistration } from '../ticket-sink-registration.js';
import { MarkdownTicketSink } from './markdown-ticket-sink.js';

export const markdownTicketSinkRegistration: TicketSinkRegistration<'markdown'> = {
  kind: 'markdown',
  target: 'a directory',
  create: (directory, { cwd }) => new MarkdownTicketSink({ directory: resolve(cwd ?? process.cwd(), directory) }),
};
