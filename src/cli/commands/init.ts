// `keyledger init [DIR]`: scaffold a registry repository.
import { resolve } from 'node:path';
import { scaffoldRegistry } from '../../registry/registry-scaffold.js';
import { printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';

export const registerInitCommand: RegisterCommand = (program, context) => {
  program
    .command('init')
    .description(
      'scaffold a registry repository: config, example entry, people directory, CI workflow, pre-commit hook',
    )
    .argument('[dir]', 'where to create it', '.')
    .option('--force', 'overwrite existing files')
    .option('--no-commit', 'leave the files uncommitted')
    .option('--json', 'print JSON')
    .action(async (dir: string, options: { force?: boolean; commit: boolean; json?: boolean }) => {
      const result = await scaffoldRegistry({
        root: resolve(context.cwd, dir),
        now: context.clock(),
        force: options.force === true,
        commit: options.commit,
      });
      if (options.json) {
        printJson(context, result);
        return;
      }
      context.stdout.write(
        `Initialised a keyledger registry in ${result.root}${result.gitInitialised ? ' (new git repository)' : ''}\n`,
      );
      for (const file of result.created) context.stdout.write(`  created ${file}\n`);
      if (result.commit) context.stdout.write(`  committed ${result.commit.slice(0, 12)}\n`);
      context.stdout.write(`Next: edit keys/*.yaml and people.csv, then run \`keyledger validate ${dir}\`.\n`);
    });
};
