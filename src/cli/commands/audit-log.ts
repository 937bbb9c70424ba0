// `keyledger audit-log ingest PATH...` reads provider audit logs (files, folders, gzip, `-` for stdin), joins each
// record to the registry and stores usage and anomalies (src/audit/audit-log-ingest.ts); `keyledger audit-log
// formats` lists the readers; `keyledger usage KEY_ID` shows what the ingested logs say about one key.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AuditLogFiles, auditLogFilesAt } from '../../audit/audit-log-files.js';
import { ingestAuditLogs } from '../../audit/audit-log-ingest.js';
import { AuditMetrics } from '../../audit/audit-metrics.js';
import { AuditUsageStore } from '../../audit/audit-usage-store.js';
import { attributeUsageToTeams } from '../../audit/team-usage.js';
import { auditLogSources } from '../../audit-logs/audit-log-input.js';
import type { AuditLogReader } from '../../audit-logs/audit-log-reader.js';
import {
  auditLogReaderTable,
  BUILTIN_AUDIT_LOG_FORMATS,
  isBuiltinAuditLogFormat,
  jsonLinesAuditLogReader,
  parseAuditLogMapping,
} from '../../audit-logs/audit-log-reader-table.js';
import { ConfigError, UsageError } from '../../errors/keyledger-error.js';
import { loadRegistry } from '../../registry/registry-loader.js';
import { type CliContext, palette, printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { actorFor, addSharedOptions, openAppFor, type SharedOptions } from '../common-options.js';
import { EXIT_VIOLATIONS } from '../exit-codes.js';
import { parsePositiveInt } from '../option-parsers.js';
import { renderTable } from '../render/table.js';

/** New anomalies listed in the text output of an ingest. */
const ANOMALIES_SHOWN = 50;

interface AuditLogOptions extends SharedOptions {
  format: string;
  mapping?: string;
  failOnAnomaly?: boolean;
  again?: boolean;
}

interface UsageOptions extends SharedOptions {
  days: number;
  byTeam?: boolean;
}

export const registerAuditLogCommand: RegisterCommand = (program, context) => {
  addSharedOptions(program.command('audit-log'))
    .description(
      '`audit-log ingest PATH...`: read provider audit logs and enrich them; `audit-log formats`: the readers',
    )
    .argument('<action>', '`ingest` or `formats`')
    .argument('[paths...]', 'files, folders (read whole, gzip or not) or - for standard input')
    .option('--format <format>', `auto, ${BUILTIN_AUDIT_LOG_FORMATS.join(', ')} or json-lines (with --mapping)`, 'auto')
    .option('--mapping <file>', 'json-lines: which field holds the time, the key id, the IP... (JSON or YAML)')
    .option('--fail-on-anomaly', 'exit 1 when the input shows an anomaly not seen before')
    .option(
      '--again',
      'read files already ingested (unchanged or not) once more: their records are counted a second time',
    )
    .action(async (action: string, paths: string[], options: AuditLogOptions) => {
      if (action === 'formats') return printFormats(context, options);
      if (action !== 'ingest') throw new UsageError(`unknown audit-log action "${action}": use ingest or formats`);
      if (paths.length === 0) throw new UsageError('audit-log ingest needs at least one file, folder or -');
      await ingest(context, paths, options);
    });

  addSharedOptions(program.command('usage'))
    .description(
      'what the ingested audit logs say about one key (uses per day, source and caller, anomalies), or with --by-team the uses per team',
    )
    .argument('[key_id]', 'the registry key_id (not with --by-team)')
    .option('--days <n>', 'how many days back (default 90)', parsePositiveInt, 90)
    .option('--by-team', 'uses per team: by declared sources, sole consumers or owners; shared keys left unattributed')
    .action(async (keyId: string | undefined, options: UsageOptions) => {
      if (options.byTeam) {
        if (keyId) throw new UsageError('usage --by-team takes no key_id: it reports every team');
        return showTeamUsage(context, options);
      }
      if (!keyId) throw new UsageError('usage needs a key_id, or --by-team');
      return showUsage(context, keyId, options);
    });
};

async function readersFor(context: CliContext, options: AuditLogOptions): Promise<AuditLogReader[]> {
  if (options.format === 'json-lines') {
    if (!options.mapping) throw new UsageError('--format json-lines needs --mapping FILE');
    const file = resolve(context.cwd, options.mapping);
    const text = await readFile(file, 'utf8').catch(() => {
      throw new ConfigError(`mapping file ${file} cannot be read`, { code: 'E_AUDIT_LOG_MAPPING' });
    });
    const { parse } = await import('yaml');
    let value: unknown;
    try {
      value = parse(text);
    } catch (error) {
      throw new ConfigError(`${file}: not YAML or JSON: ${(error as Error).message.split('\n')[0]}`, {
        code: 'E_AUDIT_LOG_MAPPING',
      });
    }
    return [jsonLinesAuditLogReader(parseAuditLogMapping(value, file))];
  }
  if (options.mapping) throw new UsageError('--mapping goes with --format json-lines');
  if (options.format === 'auto') return Object.values(auditLogReaderTable);
  if (!isBuiltinAuditLogFormat(options.format)) {
    throw new UsageError(
      `unknown --format "${options.format}": auto, ${BUILTIN_AUDIT_LOG_FORMATS.join(', ')} or json-lines`,
    );
  }
  return [auditLogReaderTable[options.format]];
}

async function ingest(context: CliContext, paths: string[], options: AuditLogOptions): Promise<void> {
  const readers = await readersFor(context, options);
  // Every path is checked before anything is read or opened.
  const sources = await auditLogSources(
    paths.map((path) => (path === '-' ? path : resolve(context.cwd, path))),
    context.stdin,
  );
  const app = await openAppFor(context, options);
  try {
    // Usage counts add up on every ingest, so a file read twice counts its records twice: each file is recorded as
    // counted in the transaction that stores its counts (src/audit/audit-log-files.ts, as the scheduled ingest does),
    // and a file already counted is skipped unless --again. Standard input is not a file: it is always read.
    const files = new AuditLogFiles(app.operational.db);
    const onDisk = await auditLogFilesAt([
      ...new Set(sources.flatMap((source) => (source.file ? [source.file.path] : []))),
    ]);
    const sorted = await files.sort(onDisk);
    const skipped = options.again
      ? { counted: [], changed: [] }
      : { counted: sorted.counted.map((file) => file.path), changed: sorted.changed.map((file) => file.path) };
    const skippedPaths = new Set([...skipped.counted, ...skipped.changed]);
    // A file named twice (itself and its folder) is read once.
    const named = new Set<string>();
    const toRead = sources.filter((source) => {
      if (!source.file) return true;
      if (skippedPaths.has(source.file.path) || named.has(source.file.path)) return false;
      named.add(source.file.path);
      return true;
    });
    const toRecord = onDisk.filter((file) => !skippedPaths.has(file.path));
    if (!options.json && skippedPaths.size > 0) {
      const parts = [
        skipped.counted.length ? `${skipped.counted.length} already ingested` : '',
        skipped.changed.length
          ? `${skipped.changed.length} ingested before and changed since (${skipped.changed.slice(0, 3).join(', ')}${skipped.changed.length > 3 ? ', ...' : ''})`
          : '',
      ].filter(Boolean);
      context.stderr.write(
        `audit-log ingest: skipped ${parts.join(' and ')} file(s): their records are counted; --again reads them once more\n`,
      );
    }
    if (toRead.length === 0) {
      if (options.json) printJson(context, { records: 0, sources: 0, skipped });
      else context.stdout.write('nothing new to ingest\n');
      return;
    }
    const loaded = await loadRegistry({
      root: app.workspace.root,
      config: app.workspace.config,
      applyPolicy: false,
      includeEntries: true,
      useCallingThread: true,
    });
    const metrics = new AuditMetrics();
    const started = Date.now();
    const progress = context.stderr.isTTY && !options.json;
    const result = await ingestAuditLogs({
      withinCommit: async (trx) => {
        if (options.again)
          await files.forget(
            trx,
            toRecord.map((file) => file.path),
          );
        await files.record(trx, toRecord, context.clock());
      },
      sources: toRead,
      readers,
      entries: loaded.entries.map(({ entry }) => entry),
      store: new AuditUsageStore(app.operational.db),
      events: app.events,
      actor: actorFor(context, options),
      onUnauthorisedUse: (keyId) => metrics.unauthorisedUse.inc({ key_id: keyId }),
      ...(progress ? { onProgress: (n: number) => context.stderr.write(`\r${n.toLocaleString('en')} records`) } : {}),
    });
    if (progress) context.stderr.write('\r');
    const seconds = (Date.now() - started) / 1000;
    if (options.failOnAnomaly && result.newAnomalies.length > 0) context.exitCode = EXIT_VIOLATIONS;
    if (options.json) {
      printJson(context, { ...result, seconds, skipped });
      return;
    }
    const colors = palette(context);
    const out = (text: string) => context.stdout.write(`${text}\n`);
    out(
      `${result.records.toLocaleString('en')} records from ${result.sources} source(s) in ${seconds.toFixed(1)} s: ` +
        `${result.matched.toLocaleString('en')} by registered keys (${result.keysSeen} keys), ` +
        `${result.unregistered.toLocaleString('en')} by keys without an entry, ${result.withoutKey.toLocaleString('en')} naming no key`,
    );
    const kinds = Object.entries(result.anomalies).filter(([, count]) => count > 0);
    out(
      kinds.length === 0
        ? 'no anomalies'
        : `anomalies: ${kinds.map(([kind, count]) => `${kind} ${count}`).join(', ')} (${result.newAnomalies.length} new)`,
    );
    if (result.newAnomalies.length > 0) {
      // A first ingest of a large log can find a hundred thousand; the table shows the first ones, --json all.
      const shown = result.newAnomalies.slice(0, ANOMALIES_SHOWN);
      context.stdout.write(
        renderTable(
          ['KIND', 'KEY', 'PROVIDER', 'SOURCE', 'COUNT', 'DETAIL'],
          shown.map((row) => [
            colors.yellow(row.kind),
            row.key_id ?? '-',
            row.provider,
            row.source || '-',
            String(row.count),
            row.detail,
          ]),
        ),
      );
      if (result.newAnomalies.length > shown.length) {
        out(
          `... and ${(result.newAnomalies.length - shown.length).toLocaleString('en')} more new anomalies: --json lists them all, \`keyledger usage KEY_ID\` shows a key's`,
        );
      }
    }
    if (result.problems > 0) {
      out(colors.yellow(`${result.problems} record(s) could not be used; the first ${result.firstProblems.length}:`));
      for (const problem of result.firstProblems) {
        out(`  ${problem.source}:${problem.line ?? '?'} (record ${problem.index}): ${problem.message}`);
      }
    }
  } finally {
    await app.close();
  }
}

function printFormats(context: CliContext, options: AuditLogOptions): void {
  const rows = [
    ...Object.values(auditLogReaderTable).map((reader) => ({
      format: reader.format,
      provider: reader.provider,
      description: reader.description,
    })),
    { format: 'json-lines', provider: '(from --mapping)', description: 'any JSON records, through a field mapping' },
  ];
  if (options.json) {
    printJson(context, rows);
    return;
  }
  context.stdout.write(
    renderTable(
      ['FORMAT', 'PROVIDER', 'READS'],
      rows.map((row) => [row.format, row.provider, row.description]),
    ),
  );
}

async function showUsage(context: CliContext, keyId: string, options: UsageOptions): Promise<void> {
  const app = await openAppFor(context, options);
  try {
    const found = await app.writer.read(keyId);
    if (!found) throw new UsageError(`no registry entry with key_id "${keyId}"`);
    const store = new AuditUsageStore(app.operational.db);
    const since = new Date(context.clock().getTime() - options.days * 86_400_000).toISOString().slice(0, 10);
    const usage = await store.usageOf(keyId, since);
    const anomalies = await store.anomaliesOf({ keyId });
    const total = usage.reduce((sum, row) => sum + Number(row.count), 0);
    const lastUse = usage.reduce<string | undefined>(
      (last, row) => (!last || row.last_at > last ? row.last_at : last),
      undefined,
    );
    const teams = [...new Set(usage.map((row) => row.source_team).filter((team): team is string => !!team))].sort();
    if (options.json) {
      printJson(context, { key_id: keyId, since, total, last_use: lastUse ?? null, teams, usage, anomalies });
      return;
    }
    const out = (text: string) => context.stdout.write(`${text}\n`);
    out(
      total === 0
        ? `${keyId}: no use in the ingested audit logs since ${since}`
        : `${keyId}: ${total.toLocaleString('en')} uses since ${since}, last ${lastUse}${teams.length ? `; from services of ${teams.join(', ')}` : ''}`,
    );
    if (usage.length > 0) {
      context.stdout.write(
        renderTable(
          ['DAY', 'SOURCE', 'CALLER', 'OUTCOME', 'COUNT', 'TEAM'],
          usage.map((row) => [
            row.day,
            row.source || '-',
            row.principal || '-',
            row.outcome,
            String(row.count),
            row.source_team ?? '-',
          ]),
        ),
      );
    }
    for (const anomaly of anomalies)
      out(`anomaly  ${anomaly.kind}: ${anomaly.detail} (x${anomaly.count}, last ${anomaly.last_at})`);
  } finally {
    await app.close();
  }
}

async function showTeamUsage(context: CliContext, options: UsageOptions): Promise<void> {
  const app = await openAppFor(context, options);
  try {
    const loaded = await loadRegistry({
      root: app.workspace.root,
      config: app.workspace.config,
      applyPolicy: false,
      includeEntries: true,
      useCallingThread: true,
    });
    const since = new Date(context.clock().getTime() - options.days * 86_400_000).toISOString().slice(0, 10);
    const report = attributeUsageToTeams(
      await new AuditUsageStore(app.operational.db).usesByKeyAndTeam(since),
      loaded.entries.map(({ entry }) => entry),
    );
    if (options.json) {
      printJson(context, { since, ...report });
      return;
    }
    const out = (text: string) => context.stdout.write(`${text}\n`);
    if (report.teams.length === 0 && report.unattributed.length === 0) {
      out(`no attributed use in the ingested audit logs since ${since}`);
    } else {
      context.stdout.write(
        renderTable(
          ['TEAM', 'USES', 'KEYS', 'BY SOURCE', 'BY CONSUMER', 'BY OWNER', 'LAST USE'],
          report.teams.map((team) => [
            team.team,
            team.uses.toLocaleString('en'),
            String(team.keys.length),
            team.byBasis.source.toLocaleString('en'),
            team.byBasis.consumer.toLocaleString('en'),
            team.byBasis.owner.toLocaleString('en'),
            team.lastUse,
          ]),
        ),
      );
    }
    for (const open of report.unattributed) {
      out(
        `unattributed  ${open.key_id}: ${open.uses.toLocaleString('en')} uses shared by ${open.candidates.join(', ')} (no declared source tells them apart: split it)`,
      );
    }
    if (report.unregisteredUses > 0) {
      out(`${report.unregisteredUses.toLocaleString('en')} uses by keys without a registry entry`);
    }
  } finally {
    await app.close();
  }
}
