// Every CLI command, by name. A command module exports `register(program, context)`; to add one, add its name to
// COMMAND_NAMES and its loader to the Record below (the compiler holds the two together). Modules are imported only when needed: a run of `keyledger validate` loads the validate command and
// what it uses, not the provider SDKs, the sandbox and the scanner (together ~0.8 s of module loading).
import type { Command } from 'commander';
import type { CliContext } from './cli-context.js';

export type RegisterCommand = (program: Command, context: CliContext) => void;

export interface CommandTableEntry {
  /** The command's name as typed (`keyledger <name>`); must match the name the module registers. */
  name: CommandName;
  load: () => Promise<RegisterCommand>;
}

/** Every command's name: the table below is a Record over them, so a name without a loader fails to compile. */
export const COMMAND_NAMES = [
  'validate',
  'list',
  'show',
  'init',
  'start',
  'issue',
  'revoke',
  'events',
  'scan',
  'hook',
  'master-key',
  'sandbox',
  'rotate',
  'controller',
  'audit-log',
  'discover',
  'split',
  'audit',
  'usage',
  'people',
  'idp',
  'server',
  'token',
  'offboard',
  'jobs',
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** Each command's module, imported on first use (one module may register several commands: list and show). */
const commandLoaders: Record<CommandName, () => Promise<RegisterCommand>> = {
  validate: async () => (await import('./commands/validate.js')).registerValidateCommand,
  list: async () => (await import('./commands/list.js')).registerListCommand,
  show: async () => (await import('./commands/list.js')).registerListCommand,
  init: async () => (await import('./commands/init.js')).registerInitCommand,
  start: async () => (await import('./commands/start.js')).registerStartCommand,
  issue: async () => (await import('./commands/issue.js')).registerIssueCommand,
  revoke: async () => (await import('./commands/revoke.js')).registerRevokeCommand,
  events: async () => (await import('./commands/events.js')).registerEventsCommand,
  scan: async () => (await import('./commands/scan.js')).registerScanCommand,
  hook: async () => (await import('./commands/hook.js')).registerHookCommand,
  'master-key': async () => (await import('./commands/master-key.js')).registerMasterKeyCommand,
  sandbox: async () => (await import('./commands/sandbox.js')).registerSandboxCommand,
  rotate: async () => (await import('./commands/rotate.js')).registerRotateCommand,
  controller: async () => (await import('./commands/controller.js')).registerControllerCommand,
  'audit-log': async () => (await import('./commands/audit-log.js')).registerAuditLogCommand,
  discover: async () => (await import('./commands/discover.js')).registerDiscoverCommand,
  split: async () => (await import('./commands/split.js')).registerSplitCommand,
  audit: async () => (await import('./commands/audit.js')).registerAuditCommand,
  usage: async () => (await import('./commands/audit-log.js')).registerAuditLogCommand,
  people: async () => (await import('./commands/people.js')).registerPeopleCommand,
  idp: async () => (await import('./commands/idp.js')).registerIdpCommand,
  server: async () => (await import('./commands/server.js')).registerServerCommand,
  token: async () => (await import('./commands/token.js')).registerTokenCommand,
  offboard: async () => (await import('./commands/offboard.js')).registerOffboardCommand,
  jobs: async () => (await import('./commands/jobs.js')).registerJobsCommand,
};

export const commandTable: CommandTableEntry[] = COMMAND_NAMES.map((name) => ({ name, load: commandLoaders[name] }));

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
