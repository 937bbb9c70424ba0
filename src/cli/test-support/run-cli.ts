// Runs the CLI in-process with captured output, a fixed clock and a working directory, as a user would run it.
import { type Clock, fixedClock } from '../../runtime/clock.js';
import type { CliContext } from '../cli-context.js';
import { main } from '../main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(
  args: string[],
  options: {
    cwd: string;
    now?: string;
    /** A clock instead of the fixed `now` (a real one, where sandboxes check token times). */
    clock?: Clock;
    env?: NodeJS.ProcessEnv;
    stdin?: NodeJS.ReadableStream;
  } = {
    cwd: process.cwd(),
  },
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const context: CliContext = {
    stdout: {
      write: (text) => {
        stdout += text;
      },
      isTTY: false,
    },
    stderr: {
      write: (text) => {
        stderr += text;
      },
      isTTY: false,
    },
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    clock: options.clock ?? fixedClock(options.now ?? '2026-11-23T12:00:00Z'),
    color: false,
    exitCode: 0,
    ...(options.stdin ? { stdin: options.stdin } : {}),
  };
  const code = await main(['node', 'keyledger', ...args], context);
  return { code, stdout, stderr };
}
