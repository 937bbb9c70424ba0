// `keyledger scan dir|git|staged|stdin`: the secret scanner. Flags follow gitleaks' where they mean the
// same (--config, --report-format, --report-path, --redact, --exit-code, --max-decode-depth,
// --max-target-megabytes, --log-opts, --baseline); the scan itself is src/scan/scan-pipeline.ts.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { UsageError } from '../../errors/keyledger-error.js';
import { createProvider } from '../../providers/provider-table.js';
import { ScanBaseline } from '../../scan/baseline/scan-baseline.js';
import type { Finding } from '../../scan/findings/finding.js';
import { providerLivenessCheck } from '../../scan/ownership/provider-liveness.js';
import { loadRegistryOwnership } from '../../scan/ownership/registry-ownership.js';
import { remediateFindings } from '../../scan/remediation/finding-remediation.js';
import { renderCsvReport } from '../../scan/reporters/csv-report.js';
import { renderJsonReport } from '../../scan/reporters/gitleaks-json-report.js';
import { ProgressBar } from '../../scan/reporters/progress-bar.js';
import { renderSarifReport } from '../../scan/reporters/sarif-report.js';
import { renderTableReport } from '../../scan/reporters/table-report.js';
import { runScan, type ScanReport, type ScanRequest, type ScanSource } from '../../scan/scan-pipeline.js';
import { DEFAULT_MAX_FILE_BYTES } from '../../scan/scanner.js';
import { DeclarativeVerifier } from '../../scan/verify/declarative-verifier.js';
import { type CliContext, palette } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { addSharedOptions, openAppFor, registryRootFor, type SharedOptions } from '../common-options.js';
import { EXIT_OK } from '../exit-codes.js';
import { registerScanOrgCommand } from './scan-org.js';
import { registerScanRulesCommand } from './scan-rules.js';

const REPORT_FORMATS = ['table', 'json', 'sarif', 'csv'] as const;
type ReportFormat = (typeof REPORT_FORMATS)[number];

interface CommonOptions extends SharedOptions {
  config?: string;
  reportFormat?: ReportFormat;
  reportPath?: string;
  redact?: string | boolean;
  reveal?: boolean;
  baseline?: string;
  writeBaseline?: string;
  gitleaksIgnorePath?: string[];
  exitCode: string;
  maxDecodeDepth: string;
  maxTargetMegabytes: string;
  threads?: string;
  ignoreGitleaksAllow?: boolean;
  progress: boolean;
  verify?: boolean;
  remediate?: boolean;
}

function nonNegativeInteger(value: string, flag: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new UsageError(`${flag} expects a whole number, got '${value}'`);
  return number;
}

function addCommonOptions(command: Command): Command {
  // --registry and --json as every command has them (common-options.ts); no `-r` alias: here it is gitleaks'.
  return addSharedOptions(command, {
    shortRegistryAlias: false,
    registry: 'attribute findings to registry entries by fingerprint (opt-in: no default registry)',
    json: 'print the JSON report (gitleaks field names) on stdout',
  })
    .option(
      '-c, --config <path>',
      'gitleaks-compatible TOML config (default: .keyledger.toml or .gitleaks.toml in the source, else built-in rules)',
    )
    .addOption(new Option('-f, --report-format <format>', 'report format').choices([...REPORT_FORMATS]))
    .option('-r, --report-path <path>', 'write the report to this file (a summary still goes to stdout)')
    .option('--redact [percent]', 'mask secrets in JSON/CSV reports (100 = fully, N = hide the last N%)')
    .option('--reveal', 'show secrets in the human report (only on a terminal)')
    .option('--baseline <path>', 'ignore findings recorded in this baseline (ours, or a gitleaks JSON report)')
    .option('--write-baseline <path>', 'record the current findings as the baseline and exit 0')
    .option('--gitleaks-ignore-path <path...>', 'extra .gitleaksignore-style fingerprint files')
    .option('--exit-code <code>', 'exit code when findings remain', '1')
    .option('--max-decode-depth <depth>', 'decode base64/hex/percent-encoded text this many levels deep', '5')
    .option(
      '--max-target-megabytes <mb>',
      'skip files larger than this (0 = no limit)',
      String(DEFAULT_MAX_FILE_BYTES / 1024 / 1024),
    )
    .option('--threads <n>', 'worker threads (0 = main thread only; default by job size)')
    .option('--ignore-gitleaks-allow', 'report findings on lines marked gitleaks:allow / keyledger:allow')
    .option('--no-progress', 'no progress line on stderr')
    .option(
      '--verify',
      "check whether each secret is live: its provider's identify-self call, or the rule's verify block (verified, invalid, unknown)",
    )
    .option('--remediate', "record a finding event and start the key's rotation (needs --registry)");
}

function redactPercent(option: string | boolean | undefined): number {
  if (option === undefined || option === false) return 0;
  if (option === true) return 100;
  const percent = Number(option);
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
    throw new UsageError(`--redact expects a percentage from 0 to 100, got '${option}'`);
  }
  return percent;
}

async function execute(context: CliContext, source: ScanSource, options: CommonOptions): Promise<void> {
  const format: ReportFormat = options.json
    ? 'json'
    : (options.reportFormat ?? (options.reportPath ? 'json' : 'table'));
  const percent = redactPercent(options.redact);
  if (options.reveal && !context.stdout.isTTY) {
    throw new UsageError(
      '--reveal shows secrets only on a terminal; for files use --report-format json (add --redact to mask)',
    );
  }
  if (options.remediate && !options.registry) {
    throw new UsageError('--remediate needs --registry to know whose key to rotate');
  }
  const exitCode = nonNegativeInteger(options.exitCode, '--exit-code');
  const request: ScanRequest = {
    source,
    cwd: context.cwd,
    env: context.env,
    engine: {
      maxDecodeDepth: nonNegativeInteger(options.maxDecodeDepth, '--max-decode-depth'),
      inlineAllow: !options.ignoreGitleaksAllow,
    },
    maxFileBytes: nonNegativeInteger(options.maxTargetMegabytes, '--max-target-megabytes') * 1024 * 1024,
    ...(options.config ? { configPath: options.config } : {}),
    ...(options.threads !== undefined ? { threads: nonNegativeInteger(options.threads, '--threads') } : {}),
    ...(options.gitleaksIgnorePath ? { ignorePaths: options.gitleaksIgnorePath } : {}),
    ...(options.baseline ? { baselinePath: options.baseline } : {}),
  };
  const registryRoot = options.registry ? await registryRootFor(context, options) : undefined;
  if (registryRoot) {
    request.ownership = await loadRegistryOwnership({
      registryDir: registryRoot,
      env: context.env,
      cwd: context.cwd,
    });
  }
  if (options.verify) {
    const providerOptions = { env: context.env };
    request.verify = providerLivenessCheck((name) => createProvider(name, providerOptions, { clock: context.clock }));
    const verifier = new DeclarativeVerifier();
    request.verifyDeclared = (definition, secret) => verifier.verify(definition, secret.reveal());
  }
  const progress = options.progress && context.stderr.isTTY ? new ProgressBar(context.stderr) : undefined;
  if (progress) request.onProgress = (state) => progress.update(state);
  let report: ScanReport;
  try {
    report = await runScan(request);
  } finally {
    progress?.finish();
  }

  if (options.writeBaseline) {
    await ScanBaseline.write(resolve(context.cwd, options.writeBaseline), report.beforeBaseline);
    context.stderr.write(`baseline: recorded ${report.beforeBaseline.length} findings in ${options.writeBaseline}\n`);
    context.exitCode = EXIT_OK;
    return;
  }

  const rendered = renderReport(format, report, options.reveal ? 0 : format === 'table' ? 100 : percent);
  if (options.reportPath) {
    await writeFile(resolve(context.cwd, options.reportPath), rendered);
  }
  if (!options.reportPath || format === 'table') {
    if (format !== 'table' || !options.reportPath) context.stdout.write(rendered);
  }
  // The summary goes to stderr when stdout carries a machine-readable report.
  const summaryStream = format === 'table' && !options.reportPath ? context.stdout : context.stderr;
  summaryStream.write(summaryLine(context, report, options.reportPath));
  context.exitCode = report.findings.length > 0 ? exitCode : EXIT_OK;
  if (options.remediate && registryRoot) await remediate(context, report, options);
}

function renderReport(format: ReportFormat, report: ScanReport, percent: number): string {
  const findings: Finding[] = report.findings;
  switch (format) {
    case 'json':
      return renderJsonReport(findings, percent);
    case 'sarif':
      return renderSarifReport(findings, report.ruleSet, '0.1.0');
    case 'csv':
      return renderCsvReport(findings, percent);
    default:
      return renderTableReport(findings, { red: (t) => t, yellow: (t) => t, dim: (t) => t, bold: (t) => t }, percent);
  }
}

function summaryLine(context: CliContext, report: ScanReport, reportPath?: string): string {
  const colors = palette(context);
  const { outcome } = report;
  const megabytes = (outcome.bytes / 1e6).toFixed(1);
  const seconds = (report.elapsedMs / 1000).toFixed(2);
  const scanned = outcome.commits > 0 ? `${outcome.commits} commits` : `${outcome.files} files`;
  const parts = [`scanned ${scanned}, ${megabytes} MB in ${seconds}s`];
  const skipped: string[] = [];
  if (outcome.skippedBinary.length) skipped.push(`${outcome.skippedBinary.length} binary`);
  if (outcome.skippedOversized.length) skipped.push(`${outcome.skippedOversized.length} over --max-target-megabytes`);
  if (outcome.unreadable.length) skipped.push(`${outcome.unreadable.length} unreadable`);
  if (skipped.length) parts.push(`skipped ${skipped.join(', ')}`);
  if (report.ignoredByFingerprint) parts.push(`${report.ignoredByFingerprint} ignored by fingerprint`);
  if (report.ignoredByBaseline) parts.push(`${report.ignoredByBaseline} in the baseline`);
  const owned = report.findings.filter((finding) => finding.owner).length;
  if (owned) parts.push(`${owned} attributed to registry keys`);
  const verdict =
    report.findings.length === 0
      ? colors.green('no leaks found')
      : colors.red(`${report.findings.length} leak${report.findings.length === 1 ? '' : 's'} found`);
  return `${verdict}: ${parts.join('; ')}${reportPath ? `; report written to ${reportPath}` : ''}\n`;
}

export const registerScanCommand: RegisterCommand = (program, context) => {
  const scan = program
    .command('scan')
    .description('find secrets in a directory, git history, staged changes or stdin (gitleaks-compatible)');

  addCommonOptions(scan.command('dir').argument('[path]', 'directory or file to scan', '.'))
    .description('scan the files under a directory')
    .option('--no-gitignore', 'scan files that .gitignore excludes too')
    .action(async (path: string, options: CommonOptions & { gitignore: boolean }) => {
      await execute(context, { kind: 'dir', path, respectGitignore: options.gitignore }, options);
    });

  addCommonOptions(scan.command('git').argument('[path]', 'git repository', '.'))
    .description('scan the lines added by every commit of a git history')
    .option('--since <rev>', 'only commits after this revision (REV..HEAD)')
    .option('--all', 'every ref, not only HEAD')
    .option('--log-opts <options>', 'extra git log options, space-separated (as gitleaks --log-opts)')
    .option('--no-merge-diffs', "skip what merge commits change beyond their parents (git's --remerge-diff)")
    .action(
      async (
        path: string,
        options: CommonOptions & { since?: string; all?: boolean; logOpts?: string; mergeDiffs: boolean },
      ) => {
        if (options.since && options.all) throw new UsageError('--since and --all cannot be combined');
        await execute(
          context,
          {
            kind: 'git',
            path,
            history: {
              mergeDiffs: options.mergeDiffs,
              ...(options.since ? { since: options.since } : {}),
              ...(options.all ? { all: true } : {}),
              ...(options.logOpts ? { logOptions: options.logOpts.split(/\s+/).filter(Boolean) } : {}),
            },
          },
          options,
        );
      },
    );

  addCommonOptions(scan.command('staged').argument('[path]', 'git repository', '.'))
    .description('scan the changes staged for commit (the pre-commit hook mode)')
    .action(async (path: string, options: CommonOptions) => {
      await execute(context, { kind: 'staged', path }, options);
    });

  addCommonOptions(scan.command('stdin'))
    .description('scan what arrives on standard input')
    .option('--label <name>', 'file name to report findings under')
    .action(async (options: CommonOptions & { label?: string }) => {
      if (!context.stdin) throw new UsageError('no standard input to read');
      await execute(
        context,
        { kind: 'stdin', stream: context.stdin, ...(options.label ? { label: options.label } : {}) },
        options,
      );
    });
  registerScanRulesCommand(scan, context);
  registerScanOrgCommand(scan, context);
};

/** Records each attributed finding as an event and plans its key's rotation (trigger `leak`). */
async function remediate(context: CliContext, report: ScanReport, options: SharedOptions): Promise<void> {
  const attributed = report.findings.filter((finding) => finding.owner);
  if (attributed.length === 0) {
    context.stderr.write('remediate: no finding matched a registry entry; nothing to rotate\n');
    return;
  }
  const app = await openAppFor(context, options);
  const actor = options.actor ?? context.env.KEYLEDGER_ACTOR ?? 'scan:remediate';
  try {
    const rotation = app.rotation({ actor });
    const results = await remediateFindings(
      attributed,
      {
        recordFinding: async (keyId, data) => {
          await app.events.append({ type: 'finding', actor, keyId, data });
        },
        planLeakRotation: async (keyId) => {
          const { row, created } = await rotation.rotator.plan(keyId, 'leak');
          return { rotationId: row.rotation_id, created };
        },
      },
      actor,
    );
    for (const result of results) {
      context.stderr.write(
        result.error
          ? `remediate: ${result.keyId}: ${result.findings} finding(s) recorded, rotation NOT planned: ${result.error}\n`
          : result.onlyKeyId
            ? `remediate: ${result.keyId}: ${result.findings} finding(s) recorded; only its provider key id was found, not its secret: no rotation planned\n`
            : `remediate: ${result.keyId}: ${result.findings} finding(s) recorded; rotation ${result.rotationId} ${result.newRotation ? 'planned' : 'already under way'} (trigger leak; run \`keyledger rotate --resume\` or the controller)\n`,
      );
    }
    if (results.some((result) => result.error)) context.exitCode = 2;
  } finally {
    await app.close();
  }
}
