// `keyledger sandbox`: starts the provider sandboxes loaded with a generated organisation, writes the registry,
// people directory and ground truth to --out, prints what runs where (and one JSON line for scripts), and runs
// until SIGINT or SIGTERM.
import { join, resolve } from 'node:path';
import { UsageError } from '../../errors/keyledger-error.js';
import { ORG_PROFILES } from '../../sandbox/org/org-profiles.js';
import { type StartSandboxOptions, startSandbox } from '../../sandbox/start-sandbox.js';
import { palette } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';

interface SandboxFlags {
  org: string;
  seed: string;
  portBase?: string;
  out: string;
  json?: boolean;
  rateLimits: string;
  consistencyDelay: string;
}

const PROFILES = [...Object.keys(ORG_PROFILES), 'none'];

function integer(value: string, flag: string, min: number, max: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}, not ${value}`);
  }
  return number;
}

/** Resolves when the process is asked to stop. */
function untilSignal(): Promise<string> {
  return new Promise((resolveSignal) => {
    const stop = (signal: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolveSignal(signal);
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}

export const registerSandboxCommand: RegisterCommand = (program, context) => {
  program
    .command('sandbox')
    .description('run local servers that speak AWS IAM/STS, GitHub and GitLab, loaded with a generated organisation')
    .option('--org <profile>', `organisation to load: ${PROFILES.join(', ')}`, 'default')
    .option('--seed <n>', 'seed of the organisation generator', '1')
    .option('--port-base <n>', 'first port (providers take consecutive ports); free ports when unset')
    .option(
      '--out <dir>',
      'where to write the registry, people directory, ground truth and sandbox.json',
      '.keyledger/sandbox',
    )
    .option('--json', 'print only the JSON line')
    .option('--rate-limits <mode>', 'documented (each provider’s limit) or off', 'documented')
    .option('--consistency-delay <ms>', 'AWS: how long a new key fails authentication', '2000')
    .action(async (flags: SandboxFlags) => {
      if (!PROFILES.includes(flags.org))
        throw new UsageError(`--org must be one of ${PROFILES.join(', ')}, not ${flags.org}`);
      if (flags.rateLimits !== 'documented' && flags.rateLimits !== 'off') {
        throw new UsageError(`--rate-limits must be documented or off, not ${flags.rateLimits}`);
      }
      const outDir = resolve(context.cwd, flags.out);
      const options: StartSandboxOptions = {
        org: flags.org as StartSandboxOptions['org'],
        seed: integer(flags.seed, '--seed', 0, 2 ** 32 - 1),
        outDir,
        clock: context.clock,
        rateLimits: flags.rateLimits,
        consistencyDelayMs: integer(flags.consistencyDelay, '--consistency-delay', 0, 600_000),
        ...(flags.portBase !== undefined ? { portBase: integer(flags.portBase, '--port-base', 1, 65_000) } : {}),
      };
      const stopped = untilSignal();
      const sandbox = await startSandbox(options);
      const line = {
        urls: sandbox.urls,
        sandboxFile: sandbox.written?.sandboxFile,
        ...(sandbox.written?.registryDir ? { registry: sandbox.written.registryDir } : {}),
        ...(sandbox.written?.peopleFile ? { people: sandbox.written.peopleFile } : {}),
        ...(sandbox.written?.groundTruthFile ? { groundTruth: sandbox.written.groundTruthFile } : {}),
        ...(sandbox.org ? { organisation: sandbox.org.summary } : {}),
      };
      if (!flags.json) {
        const colors = palette(context);
        context.stdout.write(
          `${colors.bold('keyledger sandbox')} — organisation ${flags.org}, seed ${options.seed}\n\n`,
        );
        for (const [name, url] of Object.entries(sandbox.urls)) context.stdout.write(`  ${name.padEnd(10)} ${url}\n`);
        if (sandbox.org) {
          const s = sandbox.org.summary;
          context.stdout.write(
            `\n  ${s.people} people (${s.leavers} left), ${s.teams} teams, ${s.keys} keys: ${s.noClearOwner} without a clear owner ` +
              `(${s.unregistered} unregistered), ${s.ownerLeft} owned by leavers, ${s.adminScope} with admin scope\n`,
          );
        }
        context.stdout.write(
          `\n  registry, people, ground truth: ${outDir}\n  adapter options (credentials): ${sandbox.written?.sandboxFile}\n` +
            `  audit logs (CloudTrail, GitHub, GitLab): ${join(outDir, 'audit')} on exit\n`,
        );
        context.stdout.write(
          `\n  control API: <url>/__sandbox/{faults,rate-limit,requests,audit-log,ground-truth}\n  Ctrl-C stops.\n\n`,
        );
      }
      context.stdout.write(`${JSON.stringify(line)}\n`);
      const signal = await stopped;
      // What the providers recorded while the sandbox ran, in their own formats, for the audit readers.
      await sandbox.writeAuditLogs(join(outDir, 'audit'));
      await sandbox.stop();
      if (!flags.json) context.stderr.write(`keyledger sandbox: stopped on ${signal}\n`);
    });
};
