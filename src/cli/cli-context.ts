// What a command needs from the outside world, passed in so tests run commands in-process with captured output,
// a fixed clock and a temporary working directory.
import pc from 'picocolors';
import { type Clock, systemClock } from '../runtime/clock.js';
import type { OutputStream } from '../runtime/output-stream.js';
import type { Logger } from '../telemetry/logger.js';

export type { OutputStream } from '../runtime/output-stream.js';

export interface CliContext {
  stdout: OutputStream;
  stderr: OutputStream;
  cwd: string;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  /** Colour on for terminals unless NO_COLOR is set or FORCE_COLOR asks for it. */
  color: boolean;
  /** Set by a command that needs to report an exit code other than 0 without throwing. */
  exitCode: number;
  /** Standard input, for commands that read it (`scan stdin`). */
  stdin?: NodeJS.ReadableStream;
  /** Structured logs on stderr; silent unless --verbose or KEYLEDGER_LOG_LEVEL asks. Set by main(). */
  logger?: Logger;
}

export function processContext(): CliContext {
  const env = process.env;
  const color = env.NO_COLOR ? false : env.FORCE_COLOR ? true : Boolean(process.stdout.isTTY);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    env,
    clock: systemClock,
    color,
    exitCode: 0,
    stdin: process.stdin,
  };
}

/** A colour palette that is a no-op when colour is off. */
export function palette(context: CliContext) {
  return pc.createColors(context.color);
}

export function printJson(context: CliContext, value: unknown): void {
  context.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
