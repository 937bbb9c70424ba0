// `keyledger audit`: the quarterly audit (src/audit/quarterly-audit.ts) over the registry, the people directory and the ingested audit
// logs — stale entries, overdue rotations, owners who left, keys unused for 30 days, broad scopes, keys shared
// across teams, anomalies — as Markdown, HTML with charts, CSV or JSON; compared with the previous audit; one ticket
// per finding class per team with --tickets; --fail-on for CI.
import { writeFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { anomalyFindingsOf } from '../../audit/audit-anomaly-findings.js';
import { readAuditDiscoveryInput } from '../../audit/audit-discovery-input.js';
import { AUDIT_REPORT_FORMATS, type AuditReportFormat, renderAuditReport } from '../../audit/audit-report-render.js';
import { AuditReportStore } from '../../audit/audit-report-store.js';
import { openAuditTickets } from '../../audit/audit-tickets.js';
import { AuditUsageStore } from '../../audit/audit-usage-store.js';
import { AUDIT_FINDING_CLASSES, runQuarterlyAudit } from '../../audit/quarterly-audit.js';
import { UsageError } from '../../errors/keyledger-error.js';
import { compilePolicy } from '../../registry/policy/policy-engine.js';
import { parseInstant } from '../../registry/registry-dates.js';
import { loadRegistry } from '../../registry/registry-loader.js';
import { createTicketSink } from '../../tickets/ticket-sink-table.js';
import { printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { addSharedOptions, openAppFor, type SharedOptions } from '../common-options.js';
import { EXIT_VIOLATIONS } from '../exit-codes.js';

interface AuditOptions extends SharedOptions {
  asOf?: string;
  format?: string;
  output?: string;
  failOn?: string;
  tickets?: string;
  record: boolean;
}

const FORMAT_BY_EXTENSION: Record<string, AuditReportFormat> = {
  '.md': 'markdown',
  '.html': 'html',
  '.htm': 'html',
  '.csv': 'csv',
  '.json': 'json',
};

export const registerAuditCommand: RegisterCommand = (program, context) => {
  addSharedOptions(program.command('audit'))
    .description(
      'the quarterly audit: stale entries, overdue rotations, owners who left, unused keys, broad scopes, anomalies',
    )
    .option('--as-of <date>', 'audit as of this date (default: now)')
    .option(
      '--format <format>',
      `report format: ${AUDIT_REPORT_FORMATS.join(', ')} (default: from --output, else markdown)`,
    )
    .option('--output <file>', 'write the report to this file and print a summary')
    .option(
      '--fail-on <classes>',
      `exit 1 when findings of these classes exist: any, or a comma list of ${AUDIT_FINDING_CLASSES.join(', ')}`,
    )
    .option(
      '--tickets <sink>',
      'open one ticket per finding class per team: markdown:<dir>, github:<owner/repo>, jira:<PROJECT>',
    )
    .option('--no-record', 'do not record this audit as the baseline for the next one')
    .action(async (options: AuditOptions) => {
      const asOf = options.asOf ? parseInstant(options.asOf)?.date : context.clock();
      if (!asOf) throw new UsageError(`--as-of: expected a date such as 2026-12-31, got "${options.asOf}"`);
      const format =
        (options.json ? 'json' : options.format) ??
        (options.output ? FORMAT_BY_EXTENSION[extname(options.output).toLowerCase()] : undefined) ??
        'markdown';
      if (!(AUDIT_REPORT_FORMATS as readonly string[]).includes(format)) {
        throw new UsageError(`--format must be one of ${AUDIT_REPORT_FORMATS.join(', ')}; got "${format}"`);
      }
      const failOn = parseFailOn(options.failOn);
      // The sink is built before anything is read or recorded: a misconfigured sink fails the command at once.
      const sink = options.tickets
        ? createTicketSink(options.tickets, { env: context.env, cwd: context.cwd })
        : undefined;

      const app = await openAppFor(context, options);
      try {
        const { workspace } = app;
        const loaded = await loadRegistry({
          root: workspace.root,
          config: workspace.config,
          applyPolicy: false,
          includeEntries: true,
          useCallingThread: true,
          cache: true,
        });
        const usage = new AuditUsageStore(app.operational.db);
        const reports = new AuditReportStore(app.operational.db);
        const policy = compilePolicy(workspace.config.policy, asOf, workspace.people);
        const previous = await reports.previousTo(asOf);
        const discovery = await readAuditDiscoveryInput({
          db: app.operational.db,
          usage,
          entries: loaded.entries.map(({ entry }) => entry),
          ...(workspace.people ? { people: workspace.people } : {}),
          asOf,
          isBroadPermission: policy.isForbiddenPermission,
        });
        const report = runQuarterlyAudit({
          entries: loaded.entries,
          asOf,
          now: context.clock(),
          ...(workspace.people ? { people: workspace.people } : {}),
          isBroadPermission: policy.isForbiddenPermission,
          lastUse: await usage.lastUseByKey(),
          providersWithUsage: await usage.providersWithUsage(),
          anomalies: await anomalyFindingsOf(app.operational.db),
          holders: discovery.holders,
          unregisteredListed: discovery.unregisteredListed,
          goneAtProvider: discovery.goneAtProvider,
          ...(previous ? { previous } : {}),
        });
        if (options.record) await reports.record(report);
        const tickets = sink ? await openAuditTickets(report, sink) : undefined;
        const rendered = renderAuditReport(report, format as AuditReportFormat);
        if (options.output) {
          const file = resolve(context.cwd, options.output);
          await writeFile(file, rendered);
          const out = (text: string) => context.stdout.write(`${text}\n`);
          const h = report.headline;
          out(
            `audit as of ${report.asOf.slice(0, 10)}: ${report.findings.length} findings in ${Object.keys(report.byTeam).length} teams -> ${file}`,
          );
          out(
            `  ${h.activeKeys} active keys, ${h.noClearOwner} without a clear owner, ${h.ownerLeft} of leavers, ${h.adminScope} with admin scope, ${h.unregistered} without a registry entry`,
          );
          if (report.previous)
            out(
              `  since ${report.previous.asOf.slice(0, 10)}: ${report.previous.newFindings} new, ${report.previous.resolvedFindings} resolved`,
            );
          if (tickets) out(`  tickets: ${tickets.opened.length} opened, ${tickets.alreadyOpen} already open`);
        } else if (format === 'json') {
          printJson(context, { ...report, ...(tickets ? { tickets } : {}) });
        } else {
          context.stdout.write(rendered);
        }
        const failing = failOn
          ? report.findings.filter((finding) => failOn === 'any' || failOn.has(finding.class))
          : [];
        if (failing.length > 0) {
          context.exitCode = EXIT_VIOLATIONS;
          context.stderr.write(`keyledger audit: ${failing.length} finding(s) in the --fail-on classes\n`);
        }
      } finally {
        await app.close();
      }
    });
};

function parseFailOn(value: string | undefined): 'any' | Set<string> | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === 'any') return 'any';
  const classes = value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  const unknown = classes.filter((cls) => !(AUDIT_FINDING_CLASSES as readonly string[]).includes(cls));
  if (unknown.length > 0 || classes.length === 0) {
    throw new UsageError(
      `--fail-on: unknown class ${unknown.join(', ') || '(none given)'}; use any, or ${AUDIT_FINDING_CLASSES.join(', ')}`,
    );
  }
  return new Set(classes);
}
