// Every CLI command, registered by name. A command module exports `register(program, context)`; to add one,
// add its import and its entry below (one line each).
import type { Command } from 'commander';
import type { CliContext } from './cli-context.js';
import { registerValidateCommand } from './commands/validate.js';
import { registerListCommand } from './commands/list.js';
import { registerInitCommand } from './commands/init.js';
import { registerStartCommand } from './commands/start.js';
import { registerIssueCommand } from './commands/issue.js';
import { registerEventsCommand } from './commands/events.js';
import { registerScanCommand } from './commands/scan.js';
import { registerHookCommand } from './commands/hook.js';
import { registerMasterKeyCommand } from './commands/master-key.js';
import { registerSandboxCommand } from './commands/sandbox.js';
import { registerRotateCommand } from './commands/rotate.js';
import { registerControllerCommand } from './commands/controller.js';

export type RegisterCommand = (program: Command, context: CliContext) => void;

export const commandTable: RegisterCommand[] = [
  registerValidateCommand,
  registerListCommand,
  registerInitCommand,
  registerStartCommand,
  registerIssueCommand,
  registerEventsCommand,
  registerScanCommand,
  registerHookCommand,
  registerMasterKeyCommand,
  registerSandboxCommand,
  registerRotateCommand,
  registerControllerCommand,
];
