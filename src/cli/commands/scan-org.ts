// `keyledger scan org <source>`: every repository of an organisation, scanned through scan/org/org-scanner.ts.
// The source is a directory of repositories (`dir:PATH`, or a plain path) or a file of clone URLs (`urls:FILE`).
// With --history each repository's history is scanned from the commit the previous run stopped at (--state).
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { readProvidersFile } from '../../app/keyledger-app.js';
import { UsageError } from '../../errors/keyledger-error.js';
import { createProvider } from '../../providers/provider-table.js';
import { createRepositoryHost, repositoryHostNames } from '../../providers/repository-host-table.js';
import { loadOrgScanState, saveOrgScanState } from '../../scan/org/org-scan-state.js';
import { type OrgRepositoryResult, type OrgScanOptions, scanOrganisation } from '../../scan/org/org-scanner.js';
import {
  listDirectoryRepositories,
  listHostedRepositories,
  listUrlFileRepositories,
  type OrgRepository,
} from '../../scan/org/repository-source.js';
import { providerLivenessCheck } from '../../scan/ownership/provider-liveness.js';
import { loadRegistryOwnership } from '../../scan/ownership/registry-ownership.js';
import { toGitleaksRecord } from '../../scan/reporters/gitleaks-json-report.js';
import { DeclarativeVerifier } from '../../scan/verify/declarative-verifier.js';
import type { CliContext } from '../cli-context.js';
import { addSharedOptions, registryRootFor, type SharedOptions } from '../common-options.js';
import { EXIT_OK } from '../exit-codes.js';

interface ScanOrgOptions extends SharedOptions {
  config?: string;
  history?: boolean;
  state: string;
  concurrency: string;
  verify?: boolean;
  exitCode: string;
  reportPath?: string;
  providers?: string;
}

/**
 * `<host>:<owner>` (a provider that hosts repositories, e.g. an organisation or a group): listed through the
 * provider's repository host with the options of the providers file (--providers, else KEYLEDGER_PROVIDERS_FILE).
 */
async function hostedRepositories(
  context: CliContext,
  host: string,
  owner: string,
  providersFile: string | undefined,
): Promise<OrgRepository[]> {
  const file = providersFile ?? context.env.KEYLEDGER_PROVIDERS_FILE;
  if (!file) {
    throw new UsageError(
      `scan org ${host}:${owner} needs the ${host} adapter's options (base URL, token): --providers FILE or KEYLEDGER_PROVIDERS_FILE`,
    );
  }
  const options = await readProvidersFile({ KEYLEDGER_PROVIDERS_FILE: file }, context.cwd, context.cwd);
  const repositoryHost = await createRepositoryHost(host, options[host] ?? {}, { clock: context.clock });
  try {
    return await listHostedRepositories(repositoryHost, owner);
  } finally {
    await repositoryHost.close?.();
  }
}

async function repositoriesOf(context: CliContext, source: string, providersFile?: string): Promise<OrgRepository[]> {
  const hosted = /^([a-z][a-z0-9-]*):(.+)$/.exec(source);
  if (hosted && repositoryHostNames().includes(hosted[1] as string)) {
    return hostedRepositories(context, hosted[1] as string, hosted[2] as string, providersFile);
  }
  const [kind, rest] = /^(dir|urls):(.+)$/.exec(source)?.slice(1) ?? ['dir', source];
  const path = resolve(context.cwd, rest as string);
  return kind === 'urls' ? listUrlFileRepositories(path) : listDirectoryRepositories(path);
}

function repositoryLine(result: OrgRepositoryResult): string {
  if (result.error) return `${result.name}: not scanned — ${result.error}\n`;
  const range = result.since ? ` (${result.since.slice(0, 12)}..${result.head?.slice(0, 12)})` : '';
  return `${result.name}: ${result.findings.length} finding${result.findings.length === 1 ? '' : 's'}${range}\n`;
}

export function registerScanOrgCommand(scan: Command, context: CliContext): void {
  addSharedOptions(scan.command('org'), {
    shortRegistryAlias: false,
    registry: 'attribute findings to registry entries by fingerprint (opt-in: no default registry)',
    json: 'print repositories and findings as JSON on stdout',
  })
    .argument(
      '<source>',
      `dir:PATH (a directory of git repositories), urls:FILE (clone URLs, one a line), or a repository host's owner: ${repositoryHostNames()
        .map((name) => `${name}:OWNER`)
        .join(', ')}`,
    )
    .description('scan every repository of an organisation: each cloned bare (shallow unless --history) and scanned')
    .option('-c, --config <path>', 'gitleaks-compatible TOML config (default: built-in rules)')
    .option('--history', 'scan each history from the commit the last run stopped at (else the tip only)')
    .option('--state <path>', 'where the last scanned commit of each repository is kept', '.keyledger-scan-org.json')
    .option('--concurrency <n>', 'repositories scanned at once', '2')
    .option('--verify', 'check whether each secret is live (provider adapter or verify block)')
    .option(
      '--providers <file>',
      'provider options (tokens) for github:ORG / gitlab:GROUP (default $KEYLEDGER_PROVIDERS_FILE)',
    )
    .option('--exit-code <code>', 'exit code when findings remain', '1')
    .option('-r, --report-path <path>', 'also write the JSON report (repositories and findings) to this file')
    .action(async (source: string, options: ScanOrgOptions) => {
      const concurrency = Number(options.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1) {
        throw new UsageError(`--concurrency expects a whole number from 1, got '${options.concurrency}'`);
      }
      const repositories = await repositoriesOf(context, source, options.providers);
      const statePath = resolve(context.cwd, options.state);
      const scanShared: OrgScanOptions['scan'] = {
        cwd: context.cwd,
        env: context.env,
        ...(options.config ? { configPath: options.config } : {}),
      };
      const registryRoot = options.registry ? await registryRootFor(context, options) : undefined;
      if (registryRoot) {
        scanShared.ownership = await loadRegistryOwnership({
          registryDir: registryRoot,
          env: context.env,
          cwd: context.cwd,
        });
      }
      if (options.verify) {
        const providerOptions = { env: context.env };
        scanShared.verify = providerLivenessCheck((name) =>
          createProvider(name, providerOptions, { clock: context.clock }),
        );
        const verifier = new DeclarativeVerifier();
        scanShared.verifyDeclared = (definition, secret) => verifier.verify(definition, secret.reveal());
      }
      const report = await scanOrganisation({
        repositories,
        history: options.history ?? false,
        concurrency,
        state: await loadOrgScanState(statePath),
        scan: scanShared,
        now: context.clock(),
        onRepository: (result) => {
          if (!options.json) context.stderr.write(repositoryLine(result));
        },
      });
      if (options.history) await saveOrgScanState(statePath, report.state);
      const failed = report.repositories.filter((result) => result.error);
      const repositoriesJson = report.repositories.map((result) => ({
        name: result.name,
        head: result.head ?? null,
        since: result.since ?? null,
        findings: result.findings.length,
        error: result.error ?? null,
      }));
      const findingsJson = report.findings.map((finding) => ({
        Repository: finding.repository,
        ...toGitleaksRecord(finding, 100),
      }));
      const json = `${JSON.stringify({ repositories: repositoriesJson, findings: findingsJson }, null, 2)}\n`;
      if (options.reportPath) await writeFile(resolve(context.cwd, options.reportPath), json, { mode: 0o600 });
      if (options.json) {
        context.stdout.write(json);
      } else {
        for (const finding of report.findings) {
          const who = finding.commit ? ` by ${finding.commit.email}` : '';
          const owner = finding.owner ? ` (key ${finding.owner.keyId})` : '';
          const live = finding.liveness ? ` [${finding.liveness.status}]` : '';
          context.stdout.write(
            `${finding.repository}: ${finding.ruleId} in ${finding.file}:${finding.startLine}${who}${owner}${live}\n`,
          );
        }
        context.stdout.write(
          `${report.repositories.length - failed.length} of ${report.repositories.length} repositories scanned, ${report.findings.length} findings${failed.length ? `; not scanned (retried next run): ${failed.map((result) => result.name).join(', ')}` : ''}\n`,
        );
      }
      const exitCode = Number(options.exitCode);
      context.exitCode = report.findings.length > 0 ? exitCode : failed.length > 0 ? 2 : EXIT_OK;
    });
}
