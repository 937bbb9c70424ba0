// `keyledger rotate`: rotate one key (`rotate KEY_ID`), every due key (`rotate --due [--dry-run]`), or finish what
// a crash left in the journal (`rotate --resume`), or list what is unfinished (`rotate --status`). Keys of providers
// without an issuance API get a ticket. Exit 0 when everything finished, 1 when something rolled back, failed, waits
// for a retry or is stuck, 2 on errors.
import { UsageError } from '../../errors/keyledger-error.js';
import type { RotationOutcome } from '../../lifecycle/rotation/key-rotator.js';
import type { DueKey } from '../../lifecycle/rotation/rotation-due.js';
import type { RotationServices } from '../../lifecycle/rotation/rotation-services.js';
import { ROTATION_TRIGGERS, type RotationTrigger } from '../../lifecycle/rotation/rotation-states.js';
import { type CliContext, printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { actorFor, addSharedOptions, openAppFor, type SharedOptions } from '../common-options.js';
import { EXIT_VIOLATIONS } from '../exit-codes.js';
import { parsePositiveInt } from '../option-parsers.js';

interface RotateOptions extends SharedOptions {
  due?: boolean;
  dryRun?: boolean;
  resume?: boolean;
  status?: boolean;
  trigger: string;
  window?: number;
  concurrency?: number;
  tickets?: string;
  confirmTimeout?: number;
  grace?: number;
}

export const registerRotateCommand: RegisterCommand = (program, context) => {
  addSharedOptions(program.command('rotate'))
    .description('rotate a key, every due key (--due), or finish rotations a crash interrupted (--resume)')
    .argument('[key_id]', 'the registry key_id to rotate now')
    .option('--due', 'rotate every key that is due (schedule, expiry, owner left, leak, request, policy)')
    .option('--dry-run', 'with --due: list the due keys and what would happen, change nothing')
    .option(
      '--resume',
      'finish or roll back every unfinished rotation in the journal now, and revoke keys ended rotations left live',
    )
    .option('--status', 'list unfinished rotations (stuck rollbacks first) and the live keys they still hold')
    .option('--trigger <why>', `why (for KEY_ID): ${ROTATION_TRIGGERS.join(', ')}`, 'manual')
    .option(
      '--window <duration>',
      'spread the rotations over this long: 30m, 6h, 1d (default: as fast as the rate limits allow)',
      parseDuration,
    )
    .option(
      '--concurrency <n>',
      'rotations in flight per provider when the provider does not say (default 16)',
      parsePositiveInt,
    )
    .option(
      '--tickets <sink>',
      'where manual rotations get a ticket: markdown:<dir>, github:<owner/repo>, jira:<PROJECT> (default: KEYLEDGER_TICKETS)',
    )
    .option(
      '--confirm-timeout <duration>',
      'how long consumers get to pick up the new key (default 15m)',
      parseDuration,
    )
    .option('--grace <duration>', 'grace period of consumers without a probe (default 5m)', parseDuration)
    .action(async (keyId: string | undefined, options: RotateOptions) => {
      const modes = [
        keyId !== undefined,
        Boolean(options.due),
        Boolean(options.resume),
        Boolean(options.status),
      ].filter(Boolean).length;
      if (modes !== 1) throw new UsageError('give exactly one of: a KEY_ID, --due, --resume, --status');
      if (options.dryRun && !options.due) throw new UsageError('--dry-run goes with --due');
      if (!(ROTATION_TRIGGERS as readonly string[]).includes(options.trigger)) {
        throw new UsageError(`--trigger must be one of ${ROTATION_TRIGGERS.join(', ')}; got "${options.trigger}"`);
      }
      const app = await openAppFor(context, options);
      try {
        const services = app.rotation({
          ...(options.tickets ? { tickets: options.tickets } : {}),
          actor: actorFor(context, options),
          rotation: {
            ...(options.confirmTimeout !== undefined ? { confirmTimeoutMs: options.confirmTimeout } : {}),
            ...(options.grace !== undefined ? { defaultGraceSeconds: options.grace / 1000 } : {}),
          },
        });
        if (options.status) return await showStatus(context, services, options);
        if (options.resume) return await resumeAll(context, services, options);
        if (options.due) return await rotateDue(context, services, options);
        return await rotateOne(context, services, keyId!, options.trigger as RotationTrigger, options);
      } finally {
        await app.close();
      }
    });
};

async function rotateOne(
  context: CliContext,
  services: RotationServices,
  keyId: string,
  trigger: RotationTrigger,
  options: RotateOptions,
): Promise<void> {
  const outcome = await services.rotator.rotate(keyId, trigger).catch(async (error: unknown) => {
    // A provider without an issuance API: the rotation is a ticket, due now.
    if ((error as { code?: string }).code !== 'E_ROTATION_MANUAL' || !services.tickets) throw error;
    const loaded = (await services.loadEntries()).find(({ entry }) => entry.key_id === keyId);
    if (!loaded) throw error;
    return {
      ticket: await services.tickets.ensureTicket({
        entry: loaded.entry,
        dueAt: context.clock(),
        reason: `${trigger} rotation requested`,
      }),
    };
  });
  if ('ticket' in outcome) {
    if (options.json) printJson(context, { keyId, ticket: outcome.ticket });
    else
      context.stdout.write(
        `${keyId}: ${outcome.ticket.created ? 'opened' : 'already has'} rotation ticket ${outcome.ticket.id}${outcome.ticket.url ? ` (${outcome.ticket.url})` : ''}\n`,
      );
    return;
  }
  if (options.json) printJson(context, outcomeJson(keyId, outcome));
  else context.stdout.write(`${describeOutcome(keyId, outcome)}\n`);
  if (outcome.status !== 'done') context.exitCode = EXIT_VIOLATIONS;
}

async function rotateDue(context: CliContext, services: RotationServices, options: RotateOptions): Promise<void> {
  const due = await services.controller.findDue();
  if (options.dryRun) {
    if (options.json) printJson(context, { due: due.map(dueJson) });
    else if (due.length === 0) context.stdout.write('No key is due for rotation.\n');
    else {
      context.stdout.write(`${due.length} key(s) due for rotation:\n`);
      for (const key of due)
        context.stdout.write(`  ${key.keyId}  ${key.trigger}  ${key.entry.scope?.provider ?? '?'}  ${key.reason}\n`);
    }
    return;
  }
  const report = await services.scheduler.run(due, {
    ...(options.window !== undefined ? { windowMs: options.window } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    onOutcome: options.json
      ? undefined
      : (keyId, outcome) =>
          context.stdout.write(
            `${outcome.status === 'error' ? `${keyId}: error: ${outcome.error}` : describeOutcome(keyId, outcome)}\n`,
          ),
  });
  const sweep = services.tickets ? await services.tickets.sweep(await services.loadEntries()) : undefined;
  if (options.json) printJson(context, { due: due.map(dueJson), report, ...(sweep ? { tickets: sweep } : {}) });
  else {
    context.stdout.write(
      `${due.length} due: ${report.done} rotated, ${report.rolledBack} rolled back, ${report.failed} failed, ${report.deferred} deferred, ${report.stuck} stuck, ` +
        `${report.tickets.opened} ticket(s) opened (${report.tickets.existing} already open), ${report.errors.length} error(s) in ${report.seconds.toFixed(1)}s\n`,
    );
    for (const problem of report.errors) context.stdout.write(`  ${problem.keyId}: ${problem.error}\n`);
  }
  if (
    report.rolledBack + report.failed + report.deferred + report.stuck + report.errors.length + report.tickets.failed >
    0
  )
    context.exitCode = EXIT_VIOLATIONS;
}

async function resumeAll(context: CliContext, services: RotationServices, options: RotateOptions): Promise<void> {
  // A person asked: rows waiting out a back-off are tried now.
  const outcomes = await services.rotator.resumeAll({ waitForRetries: true, retryNow: true });
  // Both passes: keys left by rows that ended `failed`, then every account the registry names, listed once, for
  // keys with a rotation's name that no journal row accounts for (key-rotator.ts, sweepOrphans).
  const sweep = await services.rotator.sweepOrphans({
    entries: (await services.loadEntries()).map((loaded) => loaded.entry),
  });
  if (options.json)
    printJson(context, {
      resumed: outcomes.map((outcome) =>
        outcomeJson('status' in outcome && 'row' in outcome ? outcome.row.key_id : '', outcome),
      ),
      orphans: sweep,
    });
  else {
    if (
      outcomes.length === 0 &&
      sweep.revoked.length === 0 &&
      sweep.problems.length === 0 &&
      sweep.unaccounted.length === 0
    )
      context.stdout.write(
        'Nothing to resume: the journal holds no unfinished rotation, and no rotation left a key live in any account the registry names.\n',
      );
    for (const outcome of outcomes)
      context.stdout.write(`${describeOutcome('row' in outcome ? outcome.row.key_id : outcome.rotationId, outcome)}\n`);
    for (const orphan of sweep.revoked)
      context.stdout.write(
        `${orphan.keyId}: revoked ${orphan.provider} key ${orphan.providerKeyId}, ${
          orphan.rotationId
            ? `left live by rotation ${orphan.rotationId}`
            : 'minted by a rotation no journal row accounts for'
        }\n`,
      );
    for (const key of sweep.unaccounted)
      context.stdout.write(
        `${key.keyId}: ${key.provider} key ${key.providerKeyId}${key.account ? ` (account ${key.account})` : ''} carries a rotation's name and no journal row accounts for it; left live: ${key.reason}\n`,
      );
    for (const problem of sweep.problems)
      context.stdout.write(`${problem.keyId}: could not check for keys left live: ${problem.problem}\n`);
  }
  if (sweep.problems.length || sweep.unaccounted.length) context.exitCode = EXIT_VIOLATIONS;
  if (outcomes.some((outcome) => outcome.status !== 'done' && outcome.status !== 'rolled-back'))
    context.exitCode = EXIT_VIOLATIONS;
  if (outcomes.some((outcome) => outcome.status === 'rolled-back')) context.exitCode = EXIT_VIOLATIONS;
}

async function showStatus(context: CliContext, services: RotationServices, options: RotateOptions): Promise<void> {
  const pending = await services.rotator.pending();
  // Stuck first: those hold keys nobody is finishing right now.
  pending.sort((a, b) => Number(b.stuck) - Number(a.stuck));
  await services.rotator.observePending();
  const rows = pending.map(({ row, stuck, liveKeys }) => ({
    keyId: row.key_id,
    rotationId: row.rotation_id,
    state: row.state,
    stuck,
    provider: row.provider,
    account: row.account,
    liveProviderKeyIds: liveKeys,
    attempts: Number(row.attempts),
    notBefore: row.not_before,
    since: row.state_entered_at,
    heldBy: row.lease_owner,
    ...(row.rollback_reason ? { reason: row.rollback_reason } : {}),
    ...(row.failure ? { failure: row.failure } : {}),
  }));
  if (options.json) printJson(context, { pending: rows });
  else if (rows.length === 0) context.stdout.write('No unfinished rotation.\n');
  else {
    context.stdout.write(`${rows.length} unfinished rotation(s), ${rows.filter((row) => row.stuck).length} stuck:\n`);
    for (const row of rows)
      context.stdout.write(
        `  ${row.keyId}  ${row.state}${row.stuck ? ' STUCK' : ''}  live: ${row.liveProviderKeyIds.join(', ') || '-'}  ` +
          `attempts ${row.attempts}${row.notBefore ? `, next try ${row.notBefore}` : ''}${row.failure ? `  (${row.failure})` : ''}\n`,
      );
    context.stdout.write('`keyledger rotate --resume` tries them now.\n');
  }
  if (rows.some((row) => row.stuck)) context.exitCode = EXIT_VIOLATIONS;
}

function describeOutcome(keyId: string, outcome: RotationOutcome): string {
  switch (outcome.status) {
    case 'done':
      return `${keyId}: rotated (${outcome.row.old_provider_key_id ?? '-'} -> ${outcome.row.new_provider_key_id}, rotation ${outcome.row.rotation_id})`;
    case 'rolled-back':
      return `${keyId}: rolled back, the old key stays current (${outcome.row.rollback_reason}: ${outcome.row.failure ?? ''})`;
    case 'failed':
      return `${keyId}: FAILED (${outcome.row.rollback_reason}: ${outcome.row.failure ?? ''}) — see \`keyledger events --key ${keyId}\``;
    case 'deferred':
      return `${keyId}: waiting to retry at ${outcome.row.not_before} (${outcome.row.failure ?? ''}); \`keyledger rotate --resume\` continues it`;
    case 'busy':
      return `${keyId}: another running process holds this rotation`;
    case 'interrupted':
      return `${keyId}: interrupted in ${outcome.row.state}; \`keyledger rotate --resume\` continues it`;
    case 'stuck':
      return `${keyId}: STUCK in ${outcome.row.state}${outcome.row.new_provider_key_id ? `, holding live key ${outcome.row.new_provider_key_id}` : ''} (${outcome.row.failure ?? ''}); retried at ${outcome.row.not_before}, \`keyledger rotate --status\` lists it`;
  }
}

function outcomeJson(keyId: string, outcome: RotationOutcome) {
  if (outcome.status === 'busy') return { keyId, status: outcome.status, rotationId: outcome.rotationId };
  const row = outcome.row;
  return {
    keyId: row.key_id || keyId,
    status: outcome.status,
    rotationId: row.rotation_id,
    state: row.state,
    trigger: row.trigger,
    provider: row.provider,
    oldProviderKeyId: row.old_provider_key_id,
    newProviderKeyId: row.new_provider_key_id,
    ...(row.rollback_reason ? { reason: row.rollback_reason } : {}),
    ...(row.failure ? { failure: row.failure } : {}),
  };
}

function dueJson(key: DueKey) {
  return {
    keyId: key.keyId,
    file: key.file,
    trigger: key.trigger,
    dueAt: key.dueAt.toISOString(),
    reason: key.reason,
    provider: key.entry.scope?.provider ?? null,
  };
}

/** `90s`, `15m`, `6h`, `1d` (or plain milliseconds) to milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new UsageError(`"${text}" is not a duration: use 90s, 15m, 6h or 1d`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? 'ms') as 'ms'];
  return Math.round(Number(match[1]) * unit);
}
