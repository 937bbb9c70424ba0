// The `keyledger` command: a thin shell that parses arguments and hands them to the services.
import { Command, CommanderError } from 'commander';
import { type CliContext, processContext } from './cli-context.js';
import { commandsFor } from './command-table.js';
import { describeError, EXIT_ERROR, exitCodeFor } from './exit-codes.js';

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

/** Runs the CLI and returns its exit code; never calls process.exit, so tests can run it in-process. */
export async function main(argv: string[], context: CliContext = processContext()): Promise<number> {
  try {
    const program = await buildProgram(context, argv.slice(2));
    await program.parseAsync(argv);
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit with 0; every other parse failure is a usage error.
      return error.exitCode === 0 ? 0 : EXIT_ERROR;
    }
    context.stderr.write(`keyledger: ${describeError(error)}\n`);
    return exitCodeFor(error);
  }
}
