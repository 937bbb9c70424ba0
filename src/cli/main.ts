// The `keyledger` command: a thin shell that parses arguments and hands them to the services.
import { Command, CommanderError } from 'commander';
import { UsageError } from '../errors/keyledger-error.js';
import { type CliContext, processContext } from './cli-context.js';
import { commandsFor } from './command-table.js';
import { describeError, EXIT_ERROR, errorJson, exitCodeFor } from './exit-codes.js';

/** The program with the commands `args` (the arguments after the script) need; see `commandsFor`. */
export async function buildProgram(context: CliContext, args: readonly string[] = []): Promise<Command> {
  const program = new Command('keyledger')
    .description('Every API key as a managed identity: registry, issuance, rotation, scanning and audit.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
    })
    .showSuggestionAfterError(true)
    .option('-v, --verbose', 'structured debug logs on stderr (also: KEYLEDGER_LOG_LEVEL=debug|info|warn)')
    .hook('preAction', async (command) => {
      const verbose = command.optsWithGlobals().verbose === true;
      const level = verbose ? 'debug' : (context.env.KEYLEDGER_LOG_LEVEL ?? 'silent');
      // Silent (the default) leaves the logger out: services fall back to their own silent one, and a command
      // that never logs (validate, list) starts without loading pino (40 ms).
      if (level === 'silent') return;
      const { createLogger } = await import('../telemetry/logger.js');
      context.logger = createLogger({ level, write: (line) => context.stderr.write(line) });
    });
  for (const register of await commandsFor(args)) register(program, context);
  return program;
}

/**
 * Runs the CLI and returns its exit code; never calls process.exit, so tests can run it in-process. Errors go to
 * stderr as text and, when `--json` was asked for, also to stdout as `{"error": ...}` (exit-codes.ts, errorJson),
 * so a script reading stdout always gets JSON.
 */
export async function main(argv: string[], context: CliContext = processContext()): Promise<number> {
  const json = wantsJson(argv.slice(2));
  try {
    const program = await buildProgram(context, argv.slice(2));
    await program.parseAsync(argv);
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit with 0; every other parse failure is a usage error (commander printed it).
      if (error.exitCode === 0) return 0;
      if (json) printJsonError(context, new UsageError(stripPrefix(error.message), { commander: error.code }));
      return EXIT_ERROR;
    }
    context.stderr.write(`keyledger: ${describeError(error)}\n`);
    if (json) printJsonError(context, error);
    return exitCodeFor(error);
  }
}

/** `--json` anywhere before a `--` that ends the options. */
function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}

function printJsonError(context: CliContext, error: unknown): void {
  context.stdout.write(`${JSON.stringify(errorJson(error))}\n`);
}

/** Commander's messages start with `error: `; the JSON carries the message alone. */
function stripPrefix(message: string): string {
  return message.replace(/^error: /, '');
}
