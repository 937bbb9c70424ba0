// `keyledger server --replicas N` (docs/scale-out.md): N `keyledger server` child processes on consecutive ports
// (Node 20 has no SO_REUSEPORT for one shared port), each a full replica — API, job worker, heartbeat — over the same
// registry folder and KEYLEDGER_DATABASE_URL. The parent prints where each listens, restarts a replica that exits
// on its own (a crash: after a back-off that grows while it keeps crashing), and on SIGINT/SIGTERM stops them all.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { OutputStream } from '../runtime/output-stream.js';

export interface SupervisorOptions {
  count: number;
  /** The first replica's port; replica i listens on basePort + i (0: each picks a free port). */
  basePort: number;
  /** The arguments of this `keyledger server` run, without `--replicas` and `--port` (each child gets its port). */
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: OutputStream;
  stderr: OutputStream;
  /** Aborting stops every replica (SIGTERM, then SIGKILL after `stopTimeoutMs`). */
  signal: AbortSignal;
  stopTimeoutMs?: number;
  /** The command that runs keyledger: default this process's node, its flags and its script. */
  command?: { file: string; args: string[] };
}

export interface SupervisedReplica {
  index: number;
  port: number;
  child: ChildProcess;
  restarts: number;
}

/** The CLI arguments of this process's `server` run with `--replicas` and `--port` (and their values) removed. */
export function replicaArgs(argv: readonly string[]): string[] {
  const args: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--replicas' || arg === '--port') {
      index += 1;
      continue;
    }
    if (arg.startsWith('--replicas=') || arg.startsWith('--port=')) continue;
    args.push(arg);
  }
  return args;
}

/** Runs the replicas until `signal` aborts; resolves once every child has exited. */
export async function superviseReplicas(options: SupervisorOptions): Promise<void> {
  const command = options.command ?? { file: process.execPath, args: [...process.execArgv, process.argv[1]!] };
  const replicas: SupervisedReplica[] = [];
  const exits = new Set<Promise<void>>();
  const start = (index: number, restarts: number) => {
    if (options.signal.aborted) return;
    const port = options.basePort === 0 ? 0 : options.basePort + index;
    const child = spawn(command.file, [...command.args, ...options.args, '--port', String(port)], {
      env: options.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const replica: SupervisedReplica = { index, port, child, restarts };
    replicas[index] = replica;
    const startedAt = Date.now();
    prefixLines(child.stdout!, options.stdout, `[replica ${index + 1}] `);
    prefixLines(child.stderr!, options.stderr, `[replica ${index + 1}] `);
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exits.delete(exited);
        resolve();
        if (options.signal.aborted) return;
        // Crashed or killed from outside: back up again, waiting longer while it keeps dying young.
        const young = Date.now() - startedAt < 10_000;
        const nextRestarts = young ? restarts + 1 : 0;
        const waitMs = young ? Math.min(30_000, 500 * 2 ** restarts) : 500;
        options.stderr.write(
          `keyledger server: replica ${index + 1} (pid ${child.pid}) exited (${signal ?? code}); restarting in ${waitMs} ms\n`,
        );
        const timer = setTimeout(() => start(index, nextRestarts), waitMs);
        options.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
      });
    });
    exits.add(exited);
  };
  for (let index = 0; index < options.count; index++) start(index, 0);
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) return resolve();
    options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  for (const replica of replicas) if (replica?.child.exitCode === null) replica.child.kill('SIGTERM');
  const force = setTimeout(() => {
    for (const replica of replicas) if (replica?.child.exitCode === null) replica.child.kill('SIGKILL');
  }, options.stopTimeoutMs ?? 30_000);
  force.unref();
  while (exits.size > 0) await Promise.all([...exits]);
  clearTimeout(force);
}

function prefixLines(input: NodeJS.ReadableStream, output: OutputStream, prefix: string): void {
  createInterface({ input }).on('line', (line) => output.write(`${prefix}${line}\n`));
}
