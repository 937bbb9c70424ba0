// Every CLI command, by name. A command module exports `register(program, context)`; to add one, add a line
// below. Modules are imported only when needed: a run of `keyledger validate` loads the validate command and
// what it uses, not the provider SDKs, the sandbox and the scanner (together ~0.8 s of module loading).
import type { Command } from 'commander';
import type { CliContext } from './cli-context.js';

export type RegisterCommand = (program: Command, context: CliContext) => void;

export interface CommandTableEntry {
  /** The command's name as typed (`keyledger <name>`); must match the name the module registers. */
  name: string;
  load: () => Promise<RegisterCommand>;
}

export const commandTable: CommandTableEntry[] = [
  { name: 'validate', load: async () => (await import('./commands/validate.js')).registerValidateCommand },
  { name: 'list', load: async () => (await import('./commands/list.js')).registerListCommand },
  { name: 'show', load: async () => (await import('./commands/list.js')).registerListCommand },
  { name: 'init', load: async () => (await import('./commands/init.js')).registerInitCommand },
  { name: 'start', load: async () => (await import('./commands/start.js')).registerStartCommand },
  { name: 'issue', load: async () => (await import('./commands/issue.js')).registerIssueCommand },
  { name: 'revoke', load: async () => (await import('./commands/revoke.js')).registerRevokeCommand },
  { name: 'events', load: async () => (await import('./commands/events.js')).registerEventsCommand },
  { name: 'scan', load: async () => (await import('./commands/scan.js')).registerScanCommand },
  { name: 'hook', load: async () => (await import('./commands/hook.js')).registerHookCommand },
  { name: 'master-key', load: async () => (await import('./commands/master-key.js')).registerMasterKeyCommand },
  { name: 'sandbox', load: async () => (await import('./commands/sandbox.js')).registerSandboxCommand },
  { name: 'rotate', load: async () => (await import('./commands/rotate.js')).registerRotateCommand },
  { name: 'controller', load: async () => (await import('./commands/controller.js')).registerControllerCommand },
  { name: 'audit-log', load: async () => (await import('./commands/audit-log.js')).registerAuditLogCommand },
  { name: 'discover', load: async () => (await import('./commands/discover.js')).registerDiscoverCommand },
  { name: 'audit', load: async () => (await import('./commands/audit.js')).registerAuditCommand },
  { name: 'usage', load: async () => (await import('./commands/audit-log.js')).registerAuditLogCommand },
];

/**
 * The register functions a run needs: the named command's module alone when the arguments name one, every module
 * otherwise (help, a typo that deserves suggestions, no command at all). A module that registers several
 * commands (list and show) is registered once.
 */
export async function commandsFor(args: readonly string[]): Promise<RegisterCommand[]> {
  const name = args.find((arg) => !arg.startsWith('-'));
  const wanted = commandTable.filter((entry) => entry.name === name);
  const loaded = await Promise.all((wanted.length > 0 ? wanted : commandTable).map((entry) => entry.load()));
  return [...new Set(loaded)];
}
