import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { processContext } from './cli-context.js';
import { commandsFor, commandTable } from './command-table.js';
import { runCli } from './test-support/run-cli.js';

describe('command table', () => {
  it.each(commandTable.map((entry) => [entry.name, entry] as const))(
    'the module loaded for "%s" registers a command of that name',
    async (name, entry) => {
      const program = new Command('keyledger');
      (await entry.load())(program, processContext());
      expect(program.commands.map((command) => command.name())).toContain(name);
    },
  );

  it('loads only the named command, and every command for help or an unknown word', async () => {
    expect(await commandsFor(['validate', '.', '--json'])).toHaveLength(1);
    expect(await commandsFor(['-v', 'show', 'k'])).toHaveLength(1);
    const all = new Set(await Promise.all(commandTable.map((entry) => entry.load())));
    expect(await commandsFor(['--help'])).toHaveLength(all.size);
    expect(await commandsFor(['valdate'])).toHaveLength(all.size);
  });

  it('help lists every command, and a typo still gets a suggestion', async () => {
    const help = await runCli(['--help']);
    for (const entry of commandTable) expect(help.stdout).toMatch(new RegExp(`^\\s+${entry.name}\\b`, 'm'));
    const typo = await runCli(['valdate']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('validate');
  });
});
