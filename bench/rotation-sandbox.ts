// The provider sandboxes of bench/rotation.ts, in a process of their own: the sandboxes verify SigV4 signatures,
// parse and answer every request, and in the bench's own process they took CPU from the rotations being measured.
// Started by bench/rotation.ts (`startSandboxProcess`); prints one JSON line (URLs and adapter options) on stdout,
// and stops when its stdin closes (the bench exited, however it exited) or on SIGTERM.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '../src/sandbox/start-sandbox.js';

export interface SandboxProcess {
  urls: Record<string, string>;
  providerOptions(name: string): Record<string, unknown>;
  /** The child's pid, for reports. */
  pid: number;
  stop(): Promise<void>;
}

interface Announcement {
  urls: Record<string, string>;
  providers: Record<string, Record<string, unknown>>;
}

/** Starts this script as a child process (same node, same loader flags) and waits for its URLs. */
export async function startSandboxProcess(providers: string[]): Promise<SandboxProcess> {
  const script = fileURLToPath(import.meta.url);
  // The bench's own --cpu-prof and the like are not passed on: the loader flags (tsx) are what the child needs.
  const execArgv = process.execArgv.filter((flag) => !flag.startsWith('--cpu-prof'));
  const child = spawn(process.execPath, [...execArgv, script, providers.join(',')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const announcement = await new Promise<Announcement>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      lines.close();
      child.stdout!.resume(); // anything it prints later is dropped, never left to fill the pipe
      try {
        resolve(JSON.parse(line) as Announcement);
      } catch (error) {
        reject(error);
      }
    });
    child.once('exit', (code) => reject(new Error(`the sandbox process exited (${code}) before it started`)));
  });
  return {
    urls: announcement.urls,
    providerOptions: (name) => {
      const options = announcement.providers[name];
      if (!options) throw new Error(`no sandbox runs for provider ${name}`);
      return options;
    },
    pid: child.pid!,
    stop: async () => {
      child.stdin!.end();
      await exited;
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const providers = (process.argv[2] ?? 'aws-iam,gitlab').split(',');
  const sandbox = await startSandbox({ org: 'none', providers, rateLimits: 'off' });
  const stop = async () => {
    await sandbox.stop();
    process.exit(0);
  };
  process.stdin.on('end', () => void stop());
  process.stdin.resume();
  process.on('SIGTERM', () => void stop());
  const announcement: Announcement = {
    urls: sandbox.urls,
    providers: Object.fromEntries(Object.keys(sandbox.urls).map((name) => [name, sandbox.providerOptions(name)])),
  };
  process.stdout.write(`${JSON.stringify(announcement)}\n`);
}
