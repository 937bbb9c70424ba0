// `keyledger start` (what `npm start` runs): at this stage, validate and list the bundled example registry, so a
// fresh clone shows what keyledger does in one command. Later stages start the sandbox, server and controller here.
import { loadRegistry } from '../../registry/registry-loader.js';
import { filterEntries } from '../../registry/registry-query.js';
import { openRegistryWorkspace } from '../../registry/registry-workspace.js';
import { validateRegistry } from '../../registry/registry-validator.js';
import { exampleRegistryDir } from '../../runtime/package-paths.js';
import { palette } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { renderIssuesByFile } from '../render/registry-issues-render.js';
import { renderTable } from '../render/table.js';

export const registerStartCommand: RegisterCommand = (program, context) => {
  program
    .command('start')
    .description('run keyledger on the bundled example registry (what `npm start` does)')
    .option('-r, --registry <dir>', 'the registry to use', exampleRegistryDir())
    .action(async (options: { registry: string }) => {
      const colors = palette(context);
      const workspace = await openRegistryWorkspace(options.registry);
      context.stdout.write(`${colors.bold('keyledger')} — registry ${workspace.root}\n\n${colors.bold('validate')}\n`);
      const report = await validateRegistry({
        root: workspace.root,
        config: workspace.config,
        now: context.clock(),
        ...(workspace.people ? { people: workspace.people } : {}),
      });
      context.stdout.write(renderIssuesByFile(context, report.issues));
      context.stdout.write(`${report.errors} errors, ${report.warnings} warnings in ${report.filesTotal} files\n\n${colors.bold('list')}\n`);
      const loaded = await loadRegistry({ root: workspace.root, config: workspace.config, applyPolicy: false, includeEntries: true });
      const rows = filterEntries(loaded.entries, {}, context.clock()).map(({ entry }) => [
        entry.key_id,
        entry.scope?.provider ?? '-',
        entry.owner_team ?? '-',
        entry.owner_individual ?? '-',
        entry.expiration ?? '-',
      ]);
      context.stdout.write(renderTable(['KEY_ID', 'PROVIDER', 'TEAM', 'OWNER', 'EXPIRES'], rows));
      context.stdout.write(`\nNext: \`keyledger init my-registry\` scaffolds your own registry; \`keyledger --help\` lists every command.\n`);
    });
};
