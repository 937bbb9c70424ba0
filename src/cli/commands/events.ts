// `keyledger events`: lists the hash-chained event log, newest first; `keyledger events verify` checks the chain
// (exit 0 intact, 1 broken, naming the first bad row).
import { openOperationalStore } from '../../db/operational-store.js';
import { UsageError } from '../../errors/keyledger-error.js';
import type { ChainVerification } from '../../events/event-chain-verifier.js';
import { type EventFilter, EventLog, type LoggedEvent, MAX_EVENT_LIST_LIMIT } from '../../events/event-log.js';
import { type CliContext, palette, printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { addSharedOptions, operationalStoreFor, type SharedOptions } from '../common-options.js';
import { EXIT_VIOLATIONS } from '../exit-codes.js';
import { parsePositiveInt } from '../option-parsers.js';
import { renderTable } from '../render/table.js';

const DEFAULT_LIMIT = 50;

interface EventsOptions extends SharedOptions {
  type?: string;
  key?: string;
  /** The filter; `--actor` is the shared "who is acting" option (common-options.ts). */
  by?: string;
  since?: string;
  until?: string;
  limit?: number;
  anchor?: { seq: number; hash: string };
}

export const registerEventsCommand: RegisterCommand = (program, context) => {
  // One command with an optional `verify` operand rather than a commander subcommand: a subcommand's `--json`
  // would be taken by the parent's `--json` of the same name.
  addSharedOptions(program.command('events'), {
    json: 'print JSON (verify: including the head hash to record elsewhere; errors too)',
  })
    .description('list the event log, newest first; `events verify` checks its hash chain (exit 0 intact, 1 broken)')
    .argument('[action]', '`verify` to check the hash chain instead of listing')
    .option('--type <type>', 'only events of this type (issued, rotated, revoked, finding...)')
    .option('--key <key_id>', 'only events about this key')
    .option('--by <actor>', "only events by this actor (the event's actor field)")
    .option('--since <instant>', 'only events at or after this ISO-8601 date or instant', parseInstant)
    .option('--until <instant>', 'only events before this ISO-8601 date or instant', parseInstant)
    .option(
      '--limit <n>',
      `at most this many events (default ${DEFAULT_LIMIT}, at most ${MAX_EVENT_LIST_LIMIT})`,
      parseLimit,
    )
    .option('--anchor <seq:hash>', 'verify: a head recorded earlier; detects a cut or rewritten tail', parseAnchor)
    .action(async (action: string | undefined, options: EventsOptions) => {
      // Listing and verifying write nothing; an `--actor` there is almost surely the old filter spelling.
      if (options.actor !== undefined && (action === undefined || action === 'verify'))
        throw new UsageError('--actor names who is acting and `events` writes nothing; to filter by actor use --by');
      if (action === undefined) {
        if (options.anchor) throw new UsageError('--anchor belongs to `keyledger events verify`');
        await listEvents(context, options);
        return;
      }
      if (action !== 'verify') throw new UsageError(`unknown events action "${action}"; the only one is "verify"`);
      const listFlags = (['type', 'key', 'by', 'since', 'until', 'limit'] as const).filter(
        (flag) => options[flag] !== undefined,
      );
      if (listFlags.length > 0) {
        throw new UsageError(
          `\`events verify\` checks the whole chain; drop ${listFlags.map((flag) => `--${flag}`).join(', ')}`,
        );
      }
      await verifyEvents(context, options);
    });
};

async function listEvents(context: CliContext, options: EventsOptions): Promise<void> {
  await withEventLog(context, options, async (log) => {
    const filter: EventFilter = { limit: options.limit ?? DEFAULT_LIMIT, order: 'desc' };
    if (options.type !== undefined) filter.type = options.type;
    if (options.key !== undefined) filter.keyId = options.key;
    if (options.by !== undefined) filter.actor = options.by;
    if (options.since !== undefined) filter.since = options.since;
    if (options.until !== undefined) filter.until = options.until;
    const found = await log.list(filter);
    if (options.json) {
      printJson(context, { count: found.length, events: found });
      return;
    }
    context.stdout.write(renderEvents(found));
  });
}

async function verifyEvents(context: CliContext, options: EventsOptions): Promise<void> {
  await withEventLog(context, options, async (log) => {
    const result = await log.verify(options.anchor ? { anchor: options.anchor } : {});
    if (!result.ok) context.exitCode = EXIT_VIOLATIONS;
    if (options.json) {
      printJson(context, result);
      return;
    }
    context.stdout.write(renderVerification(context, result));
  });
}

/** Listing and verifying only read: a registry without an operational store is an error, not an empty log. */
async function withEventLog(
  context: CliContext,
  options: EventsOptions,
  work: (log: EventLog) => Promise<void>,
): Promise<void> {
  const store = await openOperationalStore(await operationalStoreFor(context, options, { mustExist: true }));
  try {
    await work(new EventLog(store.db, context.clock));
  } finally {
    await store.close();
  }
}

function renderEvents(events: LoggedEvent[]): string {
  if (events.length === 0) return 'no events\n';
  const rows = events.map((event) => [
    String(event.seq),
    event.at,
    event.type,
    event.actor,
    event.keyId ?? '-',
    Object.keys(event.data).length === 0 ? '' : JSON.stringify(event.data),
  ]);
  return renderTable(['SEQ', 'AT', 'TYPE', 'ACTOR', 'KEY', 'DATA'], rows, { maxWidth: 60 });
}

function renderVerification(context: CliContext, result: ChainVerification): string {
  const colors = palette(context);
  const head = result.head ? `head ${result.head.seq}:${result.head.hash}` : 'empty log';
  if (result.ok) {
    return `${colors.green('✔')} event log intact: ${result.checked} event${result.checked === 1 ? '' : 's'}, ${head}\n`;
  }
  const bad = result.firstBad;
  return `${colors.red('✖')} event log broken at row ${bad?.seq} (${bad?.reason}): ${bad?.message}\n  ${result.checked} row${result.checked === 1 ? '' : 's'} before it verified\n`;
}

function parseInstant(value: string): string {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new UsageError(
      `expected an ISO-8601 date or instant such as 2026-04-01 or 2026-04-01T10:00:00Z, got "${value}"`,
    );
  }
  return date.toISOString();
}

function parseLimit(value: string): number {
  const limit = parsePositiveInt(value);
  if (limit > MAX_EVENT_LIST_LIMIT) throw new UsageError(`--limit is at most ${MAX_EVENT_LIST_LIMIT}, got ${limit}`);
  return limit;
}

function parseAnchor(value: string): { seq: number; hash: string } {
  const match = /^(\d+):([0-9a-f]{64})$/.exec(value);
  if (!match)
    throw new UsageError(`expected --anchor SEQ:HASH (the head printed by \`events verify\`), got "${value}"`);
  return { seq: Number(match[1]), hash: match[2] as string };
}
