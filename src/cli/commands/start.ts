// `keyledger start` (what `npm start` runs): the main job on the embedded default. It starts the provider
// sandbox loaded with a generated organisation (the `small` profile's 110 people), turns the
// organisation's registry into a git repository, opens the embedded operational and secret stores, validates the
// registry and prints what runs where — then keeps the sandbox up until Ctrl-C so the other commands can be tried
// against it. Later stages add the HTTP server, the dashboard and the rotation controller here.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openKeyledgerApp } from '../../app/keyledger-app.js';
import { resolveOperationalStoreOptions } from '../../db/operational-store-location.js';
import { UsageError } from '../../errors/keyledger-error.js';
import { runGit } from '../../git/git-command.js';
import { validateRegistry } from '../../registry/registry-validator.js';
import { openRegistryWorkspace } from '../../registry/registry-workspace.js';
import { startSandbox } from '../../sandbox/start-sandbox.js';
import { palette, printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { parseNonNegativeInt } from '../option-parsers.js';
import { renderTable } from '../render/table.js';

interface StartOptions {
  org: string;
  seed: number;
  portBase?: number;
  once?: boolean;
  json?: boolean;
}

export const registerStartCommand: RegisterCommand = (program, context) => {
  program
    .command('start')
    .description('start the sandbox organisation on the embedded default and keep it running (what `npm start` does)')
    .option('--org <profile>', 'organisation: small, default (the brief: 110 people, ~1,200 keys) or 100k', 'default')
    .option('--seed <n>', 'seed of the generated organisation', parseNonNegativeInt, 1)
    .option('--port-base <port>', 'fixed ports from here on (default: free ports)', parseNonNegativeInt)
    .option('--once', 'set everything up, print it, and stop (no waiting)')
    .option('--json', 'print what runs where as JSON')
    .action(async (options: StartOptions) => {
      if (!['small', 'default', '100k'].includes(options.org))
        throw new UsageError(`--org must be small, default or 100k; got "${options.org}"`);
      const colors = palette(context);
      const { dataDir } = resolveOperationalStoreOptions({
        env: context.env,
        cwd: context.cwd,
        registryRoot: context.cwd,
      });
      const outDir = join(dataDir, 'sandbox');
      await rm(outDir, { recursive: true, force: true });
      const sandbox = await startSandbox({
        org: options.org as 'small' | 'default' | '100k',
        seed: options.seed,
        outDir,
        clock: context.clock,
        ...(options.portBase ? { portBase: options.portBase } : {}),
      });
      try {
        const registryDir = sandbox.written!.registryDir!;
        await runGit(['init', '--quiet'], { cwd: registryDir });
        await writeFile(join(registryDir, '.gitignore'), '.keyledger/\n');
        await runGit(['add', '-A'], { cwd: registryDir });
        await runGit(
          [
            '-c',
            'user.name=keyledger',
            '-c',
            'user.email=keyledger@localhost',
            'commit',
            '--quiet',
            '-m',
            'keyledger: the sandbox organisation',
          ],
          {
            cwd: registryDir,
          },
        );
        // The adapters' sandbox credentials stay out of the registry: commands read them from this file.
        const providersFile = sandbox.written!.sandboxFile;
        const env = { ...context.env, KEYLEDGER_PROVIDERS_FILE: providersFile };
        const app = await openKeyledgerApp({
          registryDir,
          env,
          cwd: context.cwd,
          clock: context.clock,
          ...(context.logger ? { logger: context.logger } : {}),
        });
        const store = app.secretStore('default');
        const workspace = await openRegistryWorkspace(registryDir);
        const report = await validateRegistry({
          root: workspace.root,
          config: workspace.config,
          now: context.clock(),
          ...(workspace.people ? { people: workspace.people } : {}),
        });
        const operationalLocation = app.operational.location;
        await app.close();
        const byRule = new Map<string, number>();
        for (const issue of report.issues) byRule.set(issue.rule, (byRule.get(issue.rule) ?? 0) + 1);
        const summary = sandbox.org!.summary;
        const where = {
          organisation: summary,
          sandbox: sandbox.urls,
          registry: registryDir,
          people: sandbox.written!.peopleFile,
          groundTruth: sandbox.written!.groundTruthFile,
          providersFile,
          operationalStore: operationalLocation,
          secretStore: `${store.kind} (in the operational store, master key under ${dataDir})`,
          validation: { errors: report.errors, warnings: report.warnings, byRule: Object.fromEntries(byRule) },
        };
        if (options.json) {
          printJson(context, where);
        } else {
          const out = (text: string) => context.stdout.write(`${text}\n`);
          out(colors.bold('keyledger — sandbox organisation on the embedded default'));
          out(
            `organisation  ${summary.people} people (${summary.leavers} left), ${summary.teams} teams, ${summary.keys} keys: ` +
              `${summary.noClearOwner} without a clear owner, ${summary.ownerLeft} owned by leavers, ${summary.adminScope} with admin scope, ` +
              `${summary.unregistered} not in the registry`,
          );
          out(`registry      ${registryDir} (git)`);
          out(`people        ${where.people}`);
          out(`operational   ${operationalLocation}`);
          out(`secrets       ${where.secretStore}`);
          out(`credentials   ${providersFile} (sandbox adapters; export KEYLEDGER_PROVIDERS_FILE=${providersFile})`);
          out('');
          out(colors.bold('provider sandboxes'));
          context.stdout.write(
            renderTable(
              ['PROVIDER', 'URL'],
              Object.entries(sandbox.urls).map(([name, url]) => [name, url]),
            ),
          );
          out('');
          out(colors.bold('validate'));
          context.stdout.write(
            renderTable(
              ['RULE', 'FINDINGS'],
              [...byRule.entries()].sort((a, b) => b[1] - a[1]).map(([rule, count]) => [rule, String(count)]),
            ),
          );
          out(`${report.errors} errors, ${report.warnings} warnings in ${report.filesTotal} registry files`);
          out('');
          out('Try, in another terminal:');
          out(`  export KEYLEDGER_PROVIDERS_FILE=${providersFile}`);
          out(`  npx keyledger validate ${registryDir}`);
          out(`  npx keyledger list --registry ${registryDir} --owner <a leaver's email from people.csv>`);
          out(
            `  npx keyledger issue --registry ${registryDir} --provider internal --team payments --owner <email> --purpose "demo"`,
          );
        }
        if (options.once) return;
        context.stderr.write('keyledger start: running; Ctrl-C to stop\n');
        await new Promise<void>((resolveWait) => {
          const stop = () => resolveWait();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      } finally {
        await sandbox.stop();
      }
    });
};
