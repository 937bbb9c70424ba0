// bench/audit-step.ts — the audit step of bench/audit.ts alone, on the data a `npx tsx bench/audit.ts --keep` run
// left behind, read as `keyledger audit` reads it (src/cli/commands/audit.ts): load the registry (through its load
// cache), read discovery's unregistered and gone keys back and classify them (readAuditDiscoveryInput), the
// quarterly audit over the registry, the usage and the anomalies, HTML and Markdown reports. Prints wall and CPU
// (all threads, process.cpuUsage) per part, and a SHA-256 of each output (the discovery input, and the report in all
// four formats), so two checkouts run back to back on the same data show both the time and that the output did not
// change. The folder holds `registry/` and `data/`.
// Run: `npx tsx bench/audit-step.ts /tmp/keyledger-bench-audit-XXXXXX`.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { anomalyFindingsOf } from '../src/audit/audit-anomaly-findings.js';
import { readAuditDiscoveryInput } from '../src/audit/audit-discovery-input.js';
import { renderAuditReport } from '../src/audit/audit-report-render.js';
import { AuditUsageStore } from '../src/audit/audit-usage-store.js';
import { runQuarterlyAudit } from '../src/audit/quarterly-audit.js';
import { openOperationalStore } from '../src/db/operational-store.js';
import { defaultRegistryConfig } from '../src/registry/registry-config.js';
import { loadRegistry } from '../src/registry/registry-loader.js';

const root = process.argv[2];
if (!root) throw new Error('usage: npx tsx bench/audit-step.ts <kept bench folder>');
const NOW = new Date('2026-12-07T00:00:00Z');
/** CPU seconds of this (the main) thread alone, from Linux's /proc; undefined elsewhere. Work moved to a worker thread
 * shows here and not in the process's figure. */
const mainThreadCpu = (): number | undefined => {
  try {
    const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
};
const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

const store = await openOperationalStore({ dataDir: join(root, 'data') });
const parts: Record<string, { wall: number; cpu: number }> = {};
let wallMark = process.hrtime.bigint();
let cpuMark = process.cpuUsage();
const part = (name: string) => {
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage(cpuMark);
  parts[name] = { wall: Number(wall - wallMark) / 1e9, cpu: (cpu.user + cpu.system) / 1e6 };
  wallMark = wall;
  cpuMark = process.cpuUsage();
};
const started = process.hrtime.bigint();
const cpuStarted = process.cpuUsage();
const mainStarted = mainThreadCpu();
const loaded = await loadRegistry({
  root: join(root, 'registry'),
  config: defaultRegistryConfig(),
  applyPolicy: false,
  includeEntries: true,
  useCallingThread: true,
  cache: true,
});
part('loadRegistry');
const usage = new AuditUsageStore(store.db);
const isBroadPermission = (permission: string) => permission === '*';
const discovery = await readAuditDiscoveryInput({
  db: store.db,
  usage,
  entries: loaded.entries.map(({ entry }) => entry),
  asOf: NOW,
  isBroadPermission,
});
part('discoveryInput');
const lastUse = await usage.lastUseByKey();
part('read lastUse');
const providersWithUsage = await usage.providersWithUsage();
const anomalies = await anomalyFindingsOf(store.db);
part('read anomalies');
const report = runQuarterlyAudit({
  entries: loaded.entries,
  asOf: NOW,
  now: NOW,
  isBroadPermission,
  lastUse,
  providersWithUsage,
  anomalies,
  holders: discovery.holders,
  unregisteredListed: discovery.unregisteredListed,
  goneAtProvider: discovery.goneAtProvider,
});
part('quarterlyAudit');
const html = renderAuditReport(report, 'html');
part('renderHtml');
const markdown = renderAuditReport(report, 'markdown');
part('renderMarkdown');
const wall = Number(process.hrtime.bigint() - started) / 1e9;
const cpuUsed = process.cpuUsage(cpuStarted);
const mainEnded = mainThreadCpu();
process.stdout.write(
  `${JSON.stringify({
    load: loadavg()[0],
    wall,
    cpu: (cpuUsed.user + cpuUsed.system) / 1e6,
    mainThreadCpu: mainStarted !== undefined && mainEnded !== undefined ? mainEnded - mainStarted : undefined,
    parts,
    cache: loaded.cache,
    findings: report.findings.length,
    hashes: {
      discoveryInput: sha(
        JSON.stringify([discovery.unregisteredListed, [...discovery.goneAtProvider], [...discovery.holders]]),
      ),
      html: sha(html),
      markdown: sha(markdown),
      csv: sha(renderAuditReport(report, 'csv')),
      json: sha(renderAuditReport(report, 'json')),
    },
  })}\n`,
);
await store.close();
