// `keyledger validate [DIR]`: what CI runs on the registry repository (docs/registry.md).
import { resolve } from 'node:path';
import { filesChangedSince } from '../../git/git-command.js';
import { validateRegistry } from '../../registry/registry-validator.js';
import { openRegistryWorkspace } from '../../registry/registry-workspace.js';
import { palette, printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { addSharedOptions, registryRootFor, type SharedOptions } from '../common-options.js';
import { openConfiguredStores } from '../configured-stores.js';
import { EXIT_VIOLATIONS } from '../exit-codes.js';
import { parsePositiveInt } from '../option-parsers.js';
import { renderIssuesByFile } from '../render/registry-issues-render.js';

export const registerValidateCommand: RegisterCommand = (program, context) => {
  addSharedOptions(
    program
      .command('validate')
      .description(
        'check every registry entry against the schema and the policy (exit 0 clean, 1 violations, 2 errors)',
      ),
    { json: 'print the report as JSON (errors too)' },
  )
    .argument('[dir]', 'the registry repository: the same as --registry, kept for `validate DIR`')
    .option('-c, --config <file>', 'config file (default: <dir>/keyledger.config.yaml)')
    .option('--changed-since <rev>', 'check only files changed since a git revision (pull-request checks)')
    .option('--strict', 'fail on warnings too')
    .option('--no-storage-check', 'skip the check that storage paths exist in their secret stores')
    .option('--threads <n>', 'worker threads (default: all cores for large registries)', parsePositiveInt)
    .action(
      async (
        dir: string | undefined,
        options: SharedOptions & {
          config?: string;
          changedSince?: string;
          strict?: boolean;
          storageCheck: boolean;
          threads?: number;
        },
      ) => {
        const root = await registryRootFor(context, options, { name: 'DIR', value: dir });
        const workspace = await openRegistryWorkspace(
          root,
          options.config ? { configFile: resolve(context.cwd, options.config) } : {},
        );
        const onlyFiles = options.changedSince
          ? await filesChangedSince(options.changedSince, workspace.root)
          : undefined;
        const stores = options.storageCheck ? await openConfiguredStores(workspace, context) : new Map();
        const report = await validateRegistry({
          root: workspace.root,
          config: workspace.config,
          now: context.clock(),
          ...(workspace.people ? { people: workspace.people } : {}),
          stores,
          ...(onlyFiles ? { onlyFiles } : {}),
          ...(options.threads ? { threads: options.threads } : {}),
          // A command-line run has nothing else for its main thread to do.
          useCallingThread: true,
          // Only the files changed since the last load are parsed again (src/registry/registry-load-cache.ts).
          cache: true,
        });
        const failed = report.errors > 0 || (options.strict === true && report.warnings > 0);
        if (failed) context.exitCode = EXIT_VIOLATIONS;
        if (options.json) {
          printJson(context, { ok: !failed, ...report });
          return;
        }
        const colors = palette(context);
        context.stdout.write(renderIssuesByFile(context, report.issues));
        const scope = onlyFiles
          ? `${report.filesChecked} changed of ${report.filesTotal} files`
          : `${report.filesTotal} files`;
        const storage =
          report.storage.status === 'checked'
            ? `storage: ${report.storage.checked - report.storage.missing}/${report.storage.checked} paths found${skippedText(report.storage.skipped)}`
            : `storage check skipped: ${report.storage.reason}`;
        const seconds = (report.durationMs / 1000).toFixed(2);
        const counts = `${report.errors} error${report.errors === 1 ? '' : 's'}, ${report.warnings} warning${report.warnings === 1 ? '' : 's'}`;
        const mark = failed ? colors.red('✖') : colors.green('✔');
        context.stdout.write(`${mark} ${counts} in ${scope} (${report.entries} entries) — ${storage} — ${seconds} s\n`);
      },
    );
};

function skippedText(skipped: Record<string, number>): string {
  const parts = Object.entries(skipped).map(([store, count]) => `${count} in unconfigured store "${store}"`);
  return parts.length ? `; skipped ${parts.join(', ')}` : '';
}
