// `keyledger master-key status` shows which master keys wrap the embedded store's data keys and how many rows
// each wraps; `keyledger master-key rotate` puts a new key in charge and re-wraps every row without downtime
// (src/secrets/embedded/embedded-master-key-rotation.ts). Exit 0 when all is well, 1 when rows are unreadable or
// could not be re-wrapped, 2 on errors.
import {
  type OpenOperationalStoreOptions,
  type OperationalStore,
  openOperationalStore,
} from '../../db/operational-store.js';
import { DATA_DIR_VARIABLE, requireExistingOperationalStore } from '../../db/operational-store-location.js';
import { ConfigError } from '../../errors/keyledger-error.js';
import { openKeyedEventLog } from '../../events/keyed-event-log.js';
import {
  DEFAULT_REWRAP_BATCH_SIZE,
  embeddedMasterKeyStatus,
  environmentRetirementHint,
  MasterKeyFile,
  type MasterKeyRotationReport,
  type MasterKeySource,
  type MasterKeyStatus,
  masterKeySourceFor,
  rotateEmbeddedMasterKey,
} from '../../secrets/embedded/index.js';
import { type CliContext, palette, printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { actorFor, addSharedOptions, operationalStoreFor, type SharedOptions } from '../common-options.js';
import { EXIT_VIOLATIONS } from '../exit-codes.js';
import { parsePositiveInt } from '../option-parsers.js';
import { renderTable } from '../render/table.js';

export const registerMasterKeyCommand: RegisterCommand = (program, context) => {
  const command = program
    .command('master-key')
    .description("the embedded secret store's master key: status and rotation");
  addSharedOptions(command.command('status'))
    .description(
      'show the keyring and how many secret versions each master key wraps (exit 1 if a row names a key the keyring lacks)',
    )
    .action(async (options: SharedOptions) => {
      const location = await operationalStoreFor(context, options, { mustExist: false });
      const source = masterKeySourceFor({ env: envFor(context, location.dataDir), cwd: context.cwd });
      if (source instanceof MasterKeyFile && !(await source.exists())) {
        if (options.json) printJson(context, { source: source.description, activeKeyId: null, keys: [] });
        else
          context.stdout.write(
            `no master key yet at ${source.description}: it is created when the first secret is stored\n`,
          );
        return;
      }
      // Status only reads: a keyring without its store is reported, not answered with a new empty store.
      const status = await withOperationalDb(requireExistingOperationalStore(location), (db) =>
        embeddedMasterKeyStatus(db, source),
      );
      if (status.keys.some((key) => key.state === 'unknown')) context.exitCode = EXIT_VIOLATIONS;
      if (options.json) printJson(context, status);
      else context.stdout.write(renderStatus(context, status));
    });
  addSharedOptions(command.command('rotate'))
    .description('make a new master key active, re-wrap every data key under it in batches, then retire the old key')
    .option(
      '--batch-size <n>',
      `rows re-wrapped per transaction (default ${DEFAULT_REWRAP_BATCH_SIZE})`,
      parsePositiveInt,
    )
    .action(async (options: SharedOptions & { batchSize?: number }) => {
      const location = await operationalStoreFor(context, options, { mustExist: false });
      const source = masterKeySourceFor({ env: envFor(context, location.dataDir), cwd: context.cwd });
      await refuseWithoutKey(source);
      const report = await withOperationalDb(location, async (db) => {
        const done = await rotateEmbeddedMasterKey(db, source, {
          batchSize: options.batchSize ?? DEFAULT_REWRAP_BATCH_SIZE,
        });
        // The audit trail names keys by id only; the keys themselves never leave the keyring.
        const { events } = await openKeyedEventLog({
          db,
          clock: context.clock,
          env: context.env,
          dataDir: location.dataDir,
        });
        await events.append({
          type: 'master_key.rotated',
          actor: actorFor(context, options),
          data: {
            source: done.source === 'env' ? 'env' : 'file',
            previousActiveKeyId: done.previousActiveKeyId,
            activeKeyId: done.activeKeyId,
            rewrapped: done.rewrapped,
            failed: done.failed.length,
            retiredKeyIds: done.retiredKeyIds,
          },
        });
        return done;
      });
      if (report.failed.length > 0) context.exitCode = EXIT_VIOLATIONS;
      if (options.json) printJson(context, { ...report, hint: environmentRetirementHint(report) ?? null });
      else context.stdout.write(renderRotation(context, report));
    });
};

async function refuseWithoutKey(source: MasterKeySource): Promise<void> {
  if (source instanceof MasterKeyFile && !(await source.exists())) {
    throw new ConfigError(
      `no master key at ${source.description}: nothing is encrypted yet, so there is nothing to rotate`,
      {
        code: 'E_MASTER_KEY',
      },
    );
  }
}

/** The environment with the registry's data folder named, so the keyring file is looked for there. */
function envFor(context: CliContext, dataDir: string): NodeJS.ProcessEnv {
  return { ...context.env, [DATA_DIR_VARIABLE]: dataDir };
}

async function withOperationalDb<T>(
  location: OpenOperationalStoreOptions,
  work: (db: OperationalStore['db']) => Promise<T>,
): Promise<T> {
  const store = await openOperationalStore(location);
  try {
    return await work(store.db);
  } finally {
    await store.close();
  }
}

function renderStatus(context: CliContext, status: MasterKeyStatus): string {
  const colors = palette(context);
  const rows = status.keys.map((key) => [key.id, key.state, String(key.versions)]);
  let text = `master keys from ${status.source}\n${renderTable(['KEY ID', 'STATE', 'VERSIONS'], rows)}`;
  for (const key of status.keys.filter((candidate) => candidate.state === 'unknown')) {
    text += `${colors.red('✖')} ${key.versions} version${key.versions === 1 ? '' : 's'} wrapped by ${key.id}, which the keyring does not hold: they cannot be read\n`;
  }
  const retiring = status.keys.filter((key) => key.state === 'retiring');
  if (retiring.length > 0)
    text += `${colors.yellow('!')} a rotation is unfinished: run \`keyledger master-key rotate\` to finish it\n`;
  return text;
}

function renderRotation(context: CliContext, report: MasterKeyRotationReport): string {
  const colors = palette(context);
  const lines: string[] = [];
  const headline =
    report.previousActiveKeyId === report.activeKeyId
      ? `master key ${report.activeKeyId} kept; rows re-wrapped to it`
      : `master key rotated: ${report.previousActiveKeyId} → ${report.activeKeyId}`;
  lines.push(`${report.failed.length === 0 ? colors.green('✔') : colors.red('✖')} ${headline}`);
  lines.push(`  re-wrapped ${report.rewrapped} data key${report.rewrapped === 1 ? '' : 's'}`);
  if (report.retiredKeyIds.length > 0) lines.push(`  retired ${report.retiredKeyIds.join(', ')}`);
  for (const failure of report.failed)
    lines.push(`  ${colors.red('✖')} ${failure.path} version ${failure.version}: ${failure.code}`);
  if (report.failed.length > 0) {
    lines.push(`  ${report.keysStillInUse.join(', ')} kept as retiring until these rows are repaired or deleted`);
  }
  const hint = environmentRetirementHint(report);
  if (hint) lines.push(`  ${hint}`);
  return `${lines.join('\n')}\n`;
}
