// `keyledger list` and `keyledger show KEY_ID`: the registry as a table or JSON, with the usual filters.
import { Option } from 'commander';
import { NotFoundError } from '../../errors/keyledger-error.js';
import { entryPurpose, KEY_STATUSES, type KeyStatus } from '../../registry/key-entry-schema.js';
import { loadRegistry } from '../../registry/registry-loader.js';
import { type EntryFilter, entryFacts, filterEntries } from '../../registry/registry-query.js';
import { openRegistryWorkspace } from '../../registry/registry-workspace.js';
import { palette, printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { addSharedOptions, registryRootFor, type SharedOptions } from '../common-options.js';
import { parseDays } from '../option-parsers.js';
import { renderTable } from '../render/table.js';

interface ListOptions extends SharedOptions {
  team?: string;
  owner?: string;
  provider?: string;
  status?: KeyStatus;
  expiring?: number;
  rotationOverdue?: boolean;
  tag?: string;
}

export const registerListCommand: RegisterCommand = (program, context) => {
  addSharedOptions(program.command('list').description('list registry entries, filtered'))
    .option('--team <team>', 'owned by this team')
    .option('--owner <email>', 'owned by this individual')
    .option('--provider <provider>', 'for this provider (scope.provider)')
    .addOption(new Option('--status <status>', 'with this status').choices([...KEY_STATUSES]))
    .option('--expiring <days>', 'expiring within this many days (30, 30d, 6m...), expired included', parseDays)
    .option('--rotation-overdue', 'past last_rotated + rotation_frequency_days')
    .option('--tag <tag>', 'carrying this tag')
    .action(async (options: ListOptions) => {
      const workspace = await openRegistryWorkspace(await registryRootFor(context, options));
      const loaded = await loadRegistry({
        root: workspace.root,
        config: workspace.config,
        applyPolicy: false,
        includeEntries: true,
        useCallingThread: true,
      });
      const now = context.clock();
      const filter: EntryFilter = {
        ...(options.team ? { team: options.team } : {}),
        ...(options.owner ? { owner: options.owner } : {}),
        ...(options.provider ? { provider: options.provider } : {}),
        ...(options.status ? { status: options.status } : {}),
        ...(options.expiring !== undefined ? { expiringWithinDays: options.expiring } : {}),
        ...(options.rotationOverdue ? { rotationOverdue: true } : {}),
        ...(options.tag ? { tag: options.tag } : {}),
      };
      const matches = filterEntries(loaded.entries, filter, now);
      const unreadable = loaded.files.length - loaded.entries.length;
      if (options.json) {
        printJson(context, {
          total: loaded.entries.length,
          matched: matches.length,
          unreadable,
          entries: matches.map(({ file, entry }) => ({ file, ...entry, facts: entryFacts(entry, now) })),
        });
        return;
      }
      const rows = matches.map(({ entry }) => {
        const facts = entryFacts(entry, now);
        return [
          entry.key_id,
          entry.scope?.provider ?? '-',
          entry.owner_team ?? '-',
          entry.owner_individual ?? '-',
          entry.status,
          facts.expires_in_days === undefined ? '-' : `${facts.expires_in_days}d`,
          facts.rotation_due ? `${facts.rotation_due.slice(0, 10)}${facts.rotation_overdue ? ' (overdue)' : ''}` : '-',
        ];
      });
      if (rows.length > 0) {
        context.stdout.write(
          renderTable(['KEY_ID', 'PROVIDER', 'TEAM', 'OWNER', 'STATUS', 'EXPIRES', 'ROTATION DUE'], rows),
        );
      }
      const colors = palette(context);
      const note =
        unreadable > 0 ? colors.yellow(` (${unreadable} files could not be read: run keyledger validate)`) : '';
      context.stdout.write(`${matches.length} of ${loaded.entries.length} entries${note}\n`);
    });

  addSharedOptions(program.command('show').description('show one registry entry'))
    .argument('<key_id>', 'the key_id')
    .action(async (keyId: string, options: SharedOptions) => {
      const workspace = await openRegistryWorkspace(await registryRootFor(context, options));
      const loaded = await loadRegistry({
        root: workspace.root,
        config: workspace.config,
        applyPolicy: false,
        includeEntries: true,
        useCallingThread: true,
      });
      const found = loaded.entries.find(({ entry }) => entry.key_id === keyId);
      if (!found) {
        const file = loaded.keyIds.get(keyId);
        throw new NotFoundError(
          'E_KEY_NOT_FOUND',
          file
            ? `${keyId} is in ${file} but the file does not pass the schema: run keyledger validate`
            : `no registry entry with key_id "${keyId}"`,
        );
      }
      const facts = entryFacts(found.entry, context.clock());
      if (options.json) {
        printJson(context, { file: found.file, ...found.entry, facts });
        return;
      }
      const { entry } = found;
      const colors = palette(context);
      const lines: [string, string | undefined][] = [
        ['key_id', entry.key_id],
        ['file', found.file],
        ['status', entry.status],
        ['purpose', entryPurpose(entry)],
        ['owner', [entry.owner_individual, entry.owner_team].filter(Boolean).join(' / ') || undefined],
        ['provider', entry.scope?.provider],
        ['account', entry.scope?.account_id],
        ['permissions', entry.scope?.permissions?.join(', ')],
        ['created', entry.created_at],
        ['expires', entry.expiration && `${entry.expiration} (${facts.expires_in_days} days)`],
        ['last rotated', entry.last_rotated],
        ['rotation due', facts.rotation_due && `${facts.rotation_due}${facts.rotation_overdue ? ' (overdue)' : ''}`],
        [
          'storage',
          entry.storage?.vault_path
            ? `vault:${entry.storage.vault_path}`
            : entry.storage?.path && `${entry.storage.store ?? 'default'}:${entry.storage.path}`,
        ],
        [
          'consumed by',
          entry.consumed_by
            ?.map((consumer) =>
              typeof consumer === 'string'
                ? consumer
                : Object.entries(consumer)
                    .map(([k, v]) => `${k}=${String(v)}`)
                    .join(' '),
            )
            .join('; '),
        ],
        ['fingerprint', entry.fingerprint],
        ['tags', entry.tags?.join(', ')],
        ['justification', entry.justification],
      ];
      for (const [label, value] of lines) {
        if (value !== undefined && value !== '') context.stdout.write(`${colors.dim(label.padEnd(14))}${value}\n`);
      }
    });
};
