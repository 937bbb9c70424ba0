// `keyledger events`: lists the hash-chained event log, newest first (a corrupt row is reported, the rest listed);
// `keyledger events verify` checks the chain and the anchors in the registry repository (exit 0 intact, 1 broken,
// naming the first bad row); `keyledger events anchor` records the head there (src/events/event-anchors.ts).
import { openOperationalStore } from '../../db/operational-store.js';
import { KeyledgerError, UsageError } from '../../errors/keyledger-error.js';
import {
  EVENT_ANCHOR_REF,
  type EventAnchor,
  isAnchorRepository,
  latestEventAnchor,
  readEventAnchors,
  writeEventAnchor,
} from '../../events/event-anchors.js';
import { type EventChainKey, EventChainKeyError, loadEventChainKey } from '../../events/event-chain-key.js';
import type { ChainAnchor, ChainVerification } from '../../events/event-chain-verifier.js';
import { isChainHash } from '../../events/event-hash.js';
import {
  type EventFilter,
  EventLog,
  type LoggedEvent,
  MAX_EVENT_LIST_LIMIT,
  type UnreadableEvent,
} from '../../events/event-log.js';
import { eventChainKeyFile } from '../../events/keyed-event-log.js';
import { type CliContext, palette, printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { addSharedOptions, operationalStoreFor, registryRootFor, type SharedOptions } from '../common-options.js';
import { EXIT_VIOLATIONS } from '../exit-codes.js';
import { parsePositiveInt } from '../option-parsers.js';
import { renderTable } from '../render/table.js';

const DEFAULT_LIMIT = 50;

interface EventsOptions extends SharedOptions {
  type?: string;
  key?: string;
  /** Only events by this actor (`--by`; `--actor` is the shared option naming who acts). */
  by?: string;
  since?: string;
  until?: string;
  limit?: number;
  anchor?: { seq: number; hash: string };
  /** False with `--no-anchors`. */
  anchors?: boolean;
}

const ACTIONS = ['verify', 'anchor'] as const;

export const registerEventsCommand: RegisterCommand = (program, context) => {
  // One command with an optional `verify` operand rather than a commander subcommand: a subcommand's `--json`
  // would be taken by the parent's `--json` of the same name.
  addSharedOptions(program.command('events'), {
    json: 'print JSON (verify: including the head hash to record elsewhere; errors too)',
  })
    .description(
      'list the event log, newest first; `events verify` checks its chain and anchors (exit 0 intact, 1 broken); `events anchor` records the head in the registry repository',
    )
    .argument(
      '[action]',
      '`verify` to check the chain and its anchors, `anchor` to record the head, instead of listing',
    )
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
    .option('--no-anchors', `verify: skip the anchors on ${EVENT_ANCHOR_REF} in the registry repository`)
    .action(async (action: string | undefined, options: EventsOptions) => {
      // Listing and verifying write nothing; an `--actor` there is almost surely the old filter spelling.
      if (options.actor !== undefined && (action === undefined || action === 'verify'))
        throw new UsageError('--actor names who is acting and `events` writes nothing; to filter by actor use --by');
      if (action === undefined) {
        if (options.anchor) throw new UsageError('--anchor belongs to `keyledger events verify`');
        await listEvents(context, options);
        return;
      }
      if (!(ACTIONS as readonly string[]).includes(action)) {
        throw new UsageError(`unknown events action "${action}"; the actions are ${ACTIONS.join(', ')}`);
      }
      const listFlags = (['type', 'key', 'by', 'since', 'until', 'limit'] as const).filter(
        (flag) => options[flag] !== undefined,
      );
      if (listFlags.length > 0) {
        throw new UsageError(
          `\`events ${action}\` works on the whole chain; drop ${listFlags.map((flag) => `--${flag}`).join(', ')}`,
        );
      }
      if (action === 'anchor') {
        if (options.anchor || options.anchors === false) {
          throw new UsageError('--anchor and --no-anchors belong to `keyledger events verify`');
        }
        await anchorEvents(context, options);
        return;
      }
      await verifyEvents(context, options);
    });
};

async function listEvents(context: CliContext, options: EventsOptions): Promise<void> {
  // Listing checks no hash, so it needs no chain key.
  await withEventLog(context, options, null, async (log) => {
    const filter: EventFilter = { limit: options.limit ?? DEFAULT_LIMIT, order: 'desc' };
    if (options.type !== undefined) filter.type = options.type;
    if (options.key !== undefined) filter.keyId = options.key;
    if (options.by !== undefined) filter.actor = options.by;
    if (options.since !== undefined) filter.since = options.since;
    if (options.until !== undefined) filter.until = options.until;
    const { events: found, unreadable } = await log.listChecked(filter);
    // A corrupt row is named and the rest listed; the exit code says the log needs a look (`events verify`).
    if (unreadable.length > 0) context.exitCode = EXIT_VIOLATIONS;
    if (options.json) {
      printJson(context, { count: found.length, events: found, unreadable });
      return;
    }
    context.stdout.write(renderEvents(found, unreadable));
    for (const row of unreadable) {
      context.stderr.write(
        `${palette(context).red('✖')} event row ${row.seq} is unreadable: ${row.problems.join('; ')}\n`,
      );
    }
  });
}

interface AnchorReport {
  /** The git repository the anchors were read from or written to; null when none was found. */
  repository: string | null;
  ref: string;
  /** Anchors found on the ref. */
  recorded: number;
  latest: { seq: number; at: string | null; source: string } | null;
  /** Why anchors were not checked, when they were not. */
  skipped: string | null;
}

async function verifyEvents(context: CliContext, options: EventsOptions): Promise<void> {
  const location = await operationalStoreFor(context, options, { mustExist: true });
  // Read-only: a missing key file is not created here.
  const chainKey = await loadEventChainKey({
    env: context.env,
    keyFile: eventChainKeyFile(location.dataDir),
    create: false,
  });
  // Anchors live in the registry's repository; with only KEYLEDGER_DATA_DIR (no registry) they are skipped.
  const repository = await registryRootFor(context, options).catch(() => null);
  const report: AnchorReport = { repository: null, ref: EVENT_ANCHOR_REF, recorded: 0, latest: null, skipped: null };
  let anchors: ChainAnchor[] = [];
  if (options.anchors === false) {
    report.skipped = '--no-anchors';
  } else if (!repository) {
    report.skipped = 'no registry named or found (anchors are kept in the registry repository)';
  } else if (!(await isAnchorRepository(repository))) {
    report.skipped = `${repository} is not in a git repository`;
  } else {
    report.repository = repository;
    const tip = await latestEventAnchor(repository);
    if (tip && !chainKey) {
      throw new EventChainKeyError(
        `the anchors on ${EVENT_ANCHOR_REF} are signed with the event chain key, and there is none: set KEYLEDGER_EVENT_CHAIN_KEY or put the key file at ${eventChainKeyFile(location.dataDir)}`,
      );
    }
    anchors = chainKey ? await readEventAnchors(repository, chainKey) : [];
    report.recorded = anchors.length;
    const newest = anchors.filter((anchor) => anchor.valid !== false).at(-1);
    if (newest) report.latest = { seq: newest.seq, at: newest.at ?? null, source: newest.source };
  }
  await withEventLog(context, options, chainKey, async (log) => {
    const result = await log.verify({ ...(options.anchor ? { anchor: options.anchor } : {}), anchors });
    if (!result.ok) context.exitCode = EXIT_VIOLATIONS;
    if (options.json) {
      printJson(context, { ...result, chainKey: chainKey ? { version: chainKey.version } : null, anchors: report });
      return;
    }
    context.stdout.write(renderVerification(context, result, report));
  });
}

async function anchorEvents(context: CliContext, options: EventsOptions): Promise<void> {
  const location = await operationalStoreFor(context, options, { mustExist: true });
  const repository = await registryRootFor(context, options);
  if (!(await isAnchorRepository(repository))) {
    throw new KeyledgerError(
      'E_EVENT_ANCHOR_REPOSITORY',
      `${repository} is not in a git repository: anchors are kept on ${EVENT_ANCHOR_REF} of the registry repository; run from the registry or pass --registry`,
      { category: 'config' },
    );
  }
  const chainKey = (await loadEventChainKey({
    env: context.env,
    keyFile: eventChainKeyFile(location.dataDir),
  })) as EventChainKey;
  await withEventLog(context, options, chainKey, async (log) => {
    // An anchor vouches for everything before it, so the chain (and every earlier anchor) must hold first.
    const verification = await log.verify({ anchors: await readEventAnchors(repository, chainKey) });
    if (!verification.ok) {
      context.exitCode = EXIT_VIOLATIONS;
      if (options.json) printJson(context, { written: false, anchor: null, verification });
      else {
        context.stdout.write(renderVerification(context, verification, null));
        context.stdout.write('  not anchored: an anchor would vouch for a broken log\n');
      }
      return;
    }
    const head = verification.head;
    const outcome = head
      ? await writeEventAnchor({ repository, chainKey, head, clock: context.clock })
      : { written: false, anchor: null as EventAnchor | null };
    if (options.json) {
      printJson(context, { ...outcome, repository, ref: EVENT_ANCHOR_REF });
      return;
    }
    const colors = palette(context);
    if (!outcome.anchor) context.stdout.write('no events: nothing to anchor\n');
    else if (outcome.written) {
      context.stdout.write(
        `${colors.green('✔')} anchored row ${outcome.anchor.seq} on ${EVENT_ANCHOR_REF} (commit ${outcome.anchor.commit.slice(0, 12)})\n  push it with: git push <remote> '${EVENT_ANCHOR_REF}'\n`,
      );
    } else {
      context.stdout.write(
        `${colors.green('✔')} row ${outcome.anchor.seq} is already anchored (commit ${outcome.anchor.commit.slice(0, 12)})\n`,
      );
    }
  });
}

/** Every action only reads the store (anchor writes git): a registry without one is an error, not an empty log. */
async function withEventLog(
  context: CliContext,
  options: EventsOptions,
  chainKey: EventChainKey | null,
  work: (log: EventLog) => Promise<void>,
): Promise<void> {
  const store = await openOperationalStore(await operationalStoreFor(context, options, { mustExist: true }));
  try {
    await work(new EventLog(store.db, context.clock, { chainKey }));
  } finally {
    await store.close();
  }
}

function renderEvents(events: LoggedEvent[], unreadable: UnreadableEvent[]): string {
  if (events.length === 0 && unreadable.length === 0) return 'no events\n';
  const rows = [
    ...events.map((event) => ({
      seq: event.seq,
      cells: [
        String(event.seq),
        event.at,
        event.type,
        event.actor,
        event.keyId ?? '-',
        Object.keys(event.data).length === 0 ? '' : JSON.stringify(event.data),
      ],
    })),
    ...unreadable.map((row) => ({
      seq: row.seq,
      cells: [String(row.seq), '-', '(unreadable)', '-', '-', row.problems.join('; ')],
    })),
  ]
    // The listing is newest first; unreadable rows take their place among the others.
    .sort((a, b) => b.seq - a.seq)
    .map((row) => row.cells);
  return renderTable(['SEQ', 'AT', 'TYPE', 'ACTOR', 'KEY', 'DATA'], rows, { maxWidth: 60 });
}

function renderVerification(context: CliContext, result: ChainVerification, anchors: AnchorReport | null): string {
  const colors = palette(context);
  const head = result.head ? `head ${result.head.seq}:${result.head.hash}` : 'empty log';
  const lines: string[] = [];
  if (result.ok) {
    lines.push(
      `${colors.green('✔')} event log intact: ${result.checked} event${result.checked === 1 ? '' : 's'}, ${head}`,
    );
  } else {
    const bad = result.firstBad;
    lines.push(`${colors.red('✖')} event log broken at row ${bad?.seq} (${bad?.reason}): ${bad?.message}`);
    lines.push(`  ${result.checked} row${result.checked === 1 ? '' : 's'} before it verified`);
  }
  if (result.keyedFrom !== null) {
    lines.push(
      result.keyedFrom === 1
        ? '  keyed (HMAC-SHA256 under the chain key) from row 1'
        : `  keyed (HMAC-SHA256 under the chain key) from row ${result.keyedFrom}; rows 1-${result.keyedFrom - 1} are plain SHA-256, sealed by it`,
    );
  } else if (result.checked > 0) {
    lines.push(
      '  not keyed yet: plain SHA-256, which a database writer can recompute; the next append through keyledger keys it',
    );
  }
  if (anchors) {
    if (anchors.skipped) lines.push(`  anchors not checked: ${anchors.skipped}`);
    else if (anchors.recorded === 0) {
      lines.push(`  no anchors on ${EVENT_ANCHOR_REF}: a cut tail cannot be detected; run \`keyledger events anchor\``);
    } else {
      const latest = anchors.latest;
      lines.push(
        `  ${result.anchorsChecked} of ${anchors.recorded} anchor${anchors.recorded === 1 ? '' : 's'} matched${latest ? `; the newest holds row ${latest.seq}${latest.at ? ` (${latest.at})` : ''}` : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
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
  const colon = value.indexOf(':');
  const seq = Number(value.slice(0, colon));
  const hash = value.slice(colon + 1);
  if (!/^\d+$/.test(value.slice(0, colon)) || !Number.isSafeInteger(seq) || seq < 1 || !isChainHash(hash)) {
    throw new UsageError(`expected --anchor SEQ:HASH (the head printed by \`events verify\`), got "${value}"`);
  }
  return { seq, hash };
}
