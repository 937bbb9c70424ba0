// bench/audit.ts — the audit issue's figures: on 100,000 registry entries and 1,000,000 CloudTrail records,
//   ingest   reading gzip files, cutting records, enriching each against the registry, storing the aggregates;
//   discover recording 100,000 listed keys (an in-process adapter stands in for the provider, whose own listing
//            speed is its rate limit, not ours);
//   audit    loading the registry from disk (through the registry load cache the first load wrote), classifying every key against what discovery recorded, the quarterly
//            audit, and its HTML and Markdown reports;
// and the same join (records to keys, grouped per key, day and source) in DuckDB over the same files, in the same
// run, as the reference. Run: `npx tsx bench/audit.ts [--keys 100000] [--records 1000000] [--files 10]
// [--database sqlite|postgres] [--database-url postgres://...] [--threads N] [--only ingest] [--inputs DIR] [--shape worst|skewed] [--keep]`; small sizes
// (`--keys 10000 --records 100000`) for a quick check; `--only ingest` skips discover and audit (DuckDB still runs);
// `--inputs DIR` generates the registry and logs there once and reuses them on later runs of the same sizes. `--database postgres` runs the store on the test PostgreSQL
// (KEYLEDGER_TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/postgres) in a database of its own;
// `--threads` sets the ingest's reading and enrichment threads (default: auditLogReadThreads in
// src/audit-logs/threaded-audit-log-reading.ts decides).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { anomalyFindingsOf } from '../src/audit/audit-anomaly-findings.js';
import { readAuditDiscoveryInput } from '../src/audit/audit-discovery-input.js';
import { ingestAuditLogs } from '../src/audit/audit-log-ingest.js';
import { renderAuditReport } from '../src/audit/audit-report-render.js';
import { AuditUsageStore } from '../src/audit/audit-usage-store.js';
import { discoverKeys } from '../src/audit/key-discovery.js';
import { runQuarterlyAudit } from '../src/audit/quarterly-audit.js';
import { auditLogSources } from '../src/audit-logs/audit-log-input.js';
import { auditLogReaderTable } from '../src/audit-logs/audit-log-reader-table.js';
import { openOperationalStore } from '../src/db/operational-store.js';
import { EventLog } from '../src/events/event-log.js';
import type { Provider, ProviderKey } from '../src/providers/provider.js';
import { defaultRegistryConfig } from '../src/registry/registry-config.js';
import { loadRegistry } from '../src/registry/registry-loader.js';
import { renderNewEntry, teamEntryFile } from '../src/registry/registry-writer.js';
import { systemClock } from '../src/runtime/clock.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) =>
  args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback;
const KEYS = option('--keys', 100_000);
const RECORDS = option('--records', 1_000_000);
const FILES = option('--files', 10);
const text = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
/** `--database-url postgres://...` or `--database postgres`: the store on PostgreSQL (a fresh database, dropped after). */
const DATABASE_URL =
  text('--database-url') ??
  (text('--database') === 'postgres'
    ? (process.env.KEYLEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres')
    : undefined);
const THREADS = args.includes('--threads') ? option('--threads', 0) : undefined;
const ONLY = text('--only');
const INPUTS = text('--inputs');
/**
 * `--shape worst` (default): every record's key, source address and caller drawn at random and apart, so nearly every
 * record is its own usage row and ~175,000 anomalies — a worst case for the store. `--shape skewed`: what an account's
 * trail looks like — a few keys make most calls (Zipf: the key of rank r makes a share of calls in proportion to
 * 1/r), each key is its one IAM user's and calls from its service's two or three addresses (inside its declared
 * range when it has one), and one call in 200 comes from elsewhere.
 */
const SHAPE = text('--shape') ?? 'worst';
if (SHAPE !== 'worst' && SHAPE !== 'skewed') throw new Error(`--shape takes "worst" or "skewed", got ${SHAPE}`);
if (ONLY !== undefined && ONLY !== 'ingest') throw new Error(`--only takes "ingest", got ${ONLY}`);
const TEAMS = ['payments', 'search', 'platform', 'data', 'growth', 'mobile', 'infra', 'security', 'billing', 'chat'];
const NOW = new Date('2026-12-07T00:00:00Z');

function prng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const accessKeyId = (i: number) => `AKIA${i.toString(36).toUpperCase().padStart(16, 'Q')}`;

async function timed<T>(label: string, work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const started = process.hrtime.bigint();
  const value = await work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stderr.write(`${label}: ${seconds.toFixed(2)} s\n`);
  return { seconds, value };
}

/**
 * `--shape skewed`'s callers: the key (by rank, Zipf over the registered keys; 2% of calls by 1,000 keys nobody
 * registered), its IAM user, and one of its service's addresses — inside the entry's declared range
 * (`10.<i % 200>.0.0/16` for every tenth key), in 172.16.0.0/12 for the others — or, one call in 200, an address in
 * 10.0.0.0/8, where the declared ranges are.
 */
function skewedCaller(random: () => number): () => { key: number; user: string; address: string } {
  const cumulative = new Float64Array(KEYS);
  let total = 0;
  for (let rank = 0; rank < KEYS; rank++) {
    total += 1 / (rank + 1);
    cumulative[rank] = total;
  }
  // Ranks are dealt to keys in a fixed shuffled order, so the busiest keys are spread over teams and ranges.
  const keyOfRank = Array.from({ length: KEYS }, (_, i) => i);
  for (let i = KEYS - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [keyOfRank[i], keyOfRank[j]] = [keyOfRank[j]!, keyOfRank[i]!];
  }
  return () => {
    let key: number;
    if (random() < 0.02) key = KEYS + Math.floor(random() * 1000);
    else {
      const target = random() * total;
      let low = 0;
      let high = KEYS - 1;
      while (low < high) {
        const middle = (low + high) >> 1;
        if (cumulative[middle]! < target) low = middle + 1;
        else high = middle;
      }
      key = keyOfRank[low]!;
    }
    const home = Math.floor(random() * (2 + (key % 2)));
    // Only the keys with a declared range call from inside 10.0.0.0/8 (each team's declared ranges are there); the
    // others from addresses no entry declares, so a key is called shared or out of place only by the stray calls.
    const address =
      random() < 0.005
        ? `10.${Math.floor(random() * 200)}.${Math.floor(random() * 4)}.${Math.floor(random() * 250)}`
        : key < KEYS && key % 10 === 0
          ? `10.${key % 200}.${home}.${(key * 7 + home) % 250}`
          : `172.${16 + (key % 16)}.${(key >> 4) % 250}.${home + 1}`;
    return { key, user: `svc-${key}`, address };
  };
}

/** The bench's inputs in `inputs`: reused when a previous run of the same sizes left them there, else generated. */
function reuseOrGenerateInputs(inputs: string): { registry: string; logs: string; bytes: number } {
  const sizes = { keys: KEYS, records: RECORDS, files: FILES, shape: SHAPE };
  const manifest = join(inputs, 'inputs.json');
  if (existsSync(manifest)) {
    const previous = JSON.parse(readFileSync(manifest, 'utf8')) as typeof sizes & { bytes: number };
    if (
      previous.keys === KEYS &&
      previous.records === RECORDS &&
      previous.files === FILES &&
      (previous.shape ?? 'worst') === SHAPE
    ) {
      process.stderr.write(`reusing the inputs in ${inputs}\n`);
      return { registry: join(inputs, 'registry'), logs: join(inputs, 'logs'), bytes: previous.bytes };
    }
    rmSync(join(inputs, 'registry'), { recursive: true, force: true });
    rmSync(join(inputs, 'logs'), { recursive: true, force: true });
    rmSync(manifest);
  }
  const random = prng(42);
  // The registry: KEYS entries of AWS keys across ten teams, a tenth of them with a declared source range.
  const registry = join(inputs, 'registry');
  for (const team of TEAMS) mkdirSync(join(registry, 'keys', team), { recursive: true });
  for (let i = 0; i < KEYS; i++) {
    const team = TEAMS[i % TEAMS.length]!;
    const keyId = `${team}-aws-${i.toString().padStart(6, '0')}`;
    const created = new Date(NOW.getTime() - Math.floor(random() * 700) * 86_400_000).toISOString().slice(0, 19);
    writeFileSync(
      join(registry, teamEntryFile(team, keyId)),
      renderNewEntry({
        key_id: keyId,
        description: `bench key ${i}`,
        owner_team: team,
        owner_individual: `owner${i % 500}@example.com`,
        created_at: `${created}Z`,
        expiration: new Date(Date.parse(`${created}Z`) + 365 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        last_rotated: `${created}Z`,
        status: 'active',
        provider_key_id: accessKeyId(i),
        scope: { provider: 'aws-iam', account_id: `svc-${i}`, permissions: i % 50 === 0 ? ['*'] : ['s3:GetObject'] },
        storage: { vault_path: `secret/${team}/${keyId}` },
        consumed_by: i % 40 === 0 ? [team, TEAMS[(i + 1) % TEAMS.length]!] : [team],
        ...(i % 10 === 0 ? { expected_sources: [`10.${i % 200}.0.0/16`] } : {}),
        audit: { rotation_frequency_days: 180, last_audit: '2026-10-01' },
      }),
    );
  }

  // CloudTrail: RECORDS records over FILES gzip files of JSON lines (CloudTrail Lake's export shape, which DuckDB
  // reads too), 2% of them by keys nobody registered.
  const logs = join(inputs, 'logs');
  mkdirSync(logs);
  const perFile = Math.ceil(RECORDS / FILES);
  let bytes = 0;
  const pickCaller = SHAPE === 'skewed' ? skewedCaller(random) : undefined;
  for (let f = 0; f < FILES; f++) {
    const lines: string[] = [];
    for (let r = f * perFile; r < Math.min(RECORDS, (f + 1) * perFile); r++) {
      const caller = pickCaller?.() ?? {
        key: random() < 0.02 ? KEYS + Math.floor(random() * 1000) : Math.floor(random() * KEYS),
        user: `svc-${r % 977}`,
        address: `10.${Math.floor(random() * 200)}.${Math.floor(random() * 4)}.${Math.floor(random() * 250)}`,
      };
      const key = accessKeyId(caller.key);
      const day = 1 + Math.floor(random() * 28);
      lines.push(
        JSON.stringify({
          eventVersion: '1.09',
          userIdentity: {
            type: 'IAMUser',
            principalId: 'AIDAEXAMPLE',
            arn: `arn:aws:iam::111122223333:user/${caller.user}`,
            accountId: '111122223333',
            accessKeyId: key,
            userName: caller.user,
          },
          eventTime: `2026-11-${String(day).padStart(2, '0')}T${String(Math.floor(random() * 24)).padStart(2, '0')}:00:00Z`,
          eventSource: 's3.amazonaws.com',
          eventName: 'GetObject',
          awsRegion: 'eu-west-1',
          sourceIPAddress: caller.address,
          userAgent: 'aws-sdk-js/3.700.0 ua/2.1 os/linux lang/js md/nodejs#20.20.2 api/s3#3.700.0',
          requestParameters: { bucketName: 'bench-bucket', key: `objects/${r}.json` },
          responseElements: null,
          requestID: `REQ${r}`,
          eventID: `evt-${r}`,
          readOnly: true,
          eventType: 'AwsApiCall',
          managementEvent: false,
          recipientAccountId: '111122223333',
          eventCategory: 'Data',
        }),
      );
    }
    const text = `${lines.join('\n')}\n`;
    bytes += text.length;
    writeFileSync(join(logs, `trail-${f}.json.gz`), gzipSync(text, { level: 1 }));
  }
  process.stderr.write(
    `generated ${KEYS.toLocaleString('en')} entries, ${RECORDS.toLocaleString('en')} records (${(bytes / 1e6).toFixed(0)} MB of JSON) in ${inputs}\n`,
  );

  writeFileSync(manifest, JSON.stringify({ ...sizes, bytes }));
  return { registry, logs, bytes };
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'keyledger-bench-audit-'));
  process.stderr.write(
    `machine: ${availableParallelism()} cores (${cpus()[0]?.model}), load ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}\n`,
  );
  // `--inputs DIR`: the registry and the logs are generated there once and reused by later runs of the same
  // sizes (generating them takes longer than the steps timed); otherwise in the run's own directory.
  const inputs = INPUTS ?? root;
  const { registry, logs, bytes } = reuseOrGenerateInputs(inputs);
  // The registry load cache is the audit's own doing: a reused registry starts without one, so the first load is cold.
  rmSync(join(registry, '.keyledger'), { recursive: true, force: true });

  // On PostgreSQL, a database of its own for the run, dropped at the end.
  let databaseUrl: string | undefined;
  let dropDatabase = async () => {};
  if (DATABASE_URL) {
    const { default: pg } = await import('pg');
    const name = `keyledger_bench_audit_${process.pid}`;
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(DATABASE_URL);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    dropDatabase = async () => {
      const again = new pg.Client({ connectionString: DATABASE_URL });
      await again.connect();
      await again.query(`drop database if exists ${name}`);
      await again.end();
    };
  }
  const store = await openOperationalStore({
    dataDir: join(root, 'data'),
    ...(databaseUrl ? { databaseUrl } : {}),
  });
  const config = defaultRegistryConfig();
  // The first load of the registry parses every file and writes the registry load cache
  // (src/registry/registry-load-cache.ts), as the first command of a day (validate, ingest, discover) does; the
  // audit's load below reads it back. Timed, so the cold figure is printed too.
  const coldLoad = await timed('registry load, cold (parses every file, writes the load cache)', () =>
    loadRegistry({
      root: registry,
      config,
      applyPolicy: false,
      includeEntries: true,
      useCallingThread: true,
      cache: true,
    }),
  );
  const entries = coldLoad.value.entries;

  // The store's share of the ingest, timed apart: usage is written in pieces while the reading goes on
  // (`usageSeconds`: the time in those calls), the anomalies, their events and the commit once it is done
  // (`storeSeconds`: from the anomalies' call to the ingest's end, when the reader threads are idle).
  let usageSeconds = 0;
  let readingDoneAt = 0n;
  const usageStore = new AuditUsageStore(store.db);
  const ingesting = usageStore.ingesting.bind(usageStore);
  const timedCall =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const started = process.hrtime.bigint();
      try {
        return await call(...args);
      } finally {
        usageSeconds += Number(process.hrtime.bigint() - started) / 1e9;
      }
    };
  usageStore.ingesting = (work) =>
    ingesting((writer) =>
      work({
        trx: writer.trx,
        addUsage: timedCall(writer.addUsage),
        addAnomalies: (anomalies) => {
          readingDoneAt = process.hrtime.bigint();
          return writer.addAnomalies(anomalies);
        },
      }),
    );
  const ingestCpu = process.cpuUsage();
  const ingest = await timed('ingest', async () =>
    ingestAuditLogs({
      sources: await auditLogSources([logs]),
      readers: [auditLogReaderTable.cloudtrail],
      entries: entries.map(({ entry }) => entry),
      store: usageStore,
      // As the command does: each new anomaly becomes an event.
      events: new EventLog(store.db, systemClock),
      ...(THREADS !== undefined ? { threads: THREADS } : {}),
    }),
  );
  // CPU of the whole process (every thread) during the ingest: on a shared machine, steadier than the wall time.
  const ingestCpuUsage = process.cpuUsage(ingestCpu);
  const storeSeconds = Number(process.hrtime.bigint() - readingDoneAt) / 1e9;
  const ingestCpuSeconds = (ingestCpuUsage.user + ingestCpuUsage.system) / 1e6;
  process.stderr.write(
    `  reading and enriching (usage written meanwhile, ${usageSeconds.toFixed(2)} s of it): ${(ingest.seconds - storeSeconds).toFixed(2)} s; then the anomalies, their events and the commit: ${storeSeconds.toFixed(2)} s; CPU (all threads) ${ingestCpuSeconds.toFixed(2)} s\n`,
  );

  // Discovery and the quarterly audit (skipped with `--only ingest`).
  const auditParts: Record<string, number> = {};
  let discover: { seconds: number } | undefined;
  let audit: { seconds: number; value: unknown } | undefined;
  if (ONLY !== 'ingest') {
    const listed: ProviderKey[] = entries.map(({ entry }, i) => ({
      providerKeyId: String(entry.provider_key_id),
      account: entry.scope?.account_id ?? '',
      status: 'active',
      createdAt: new Date(entry.created_at!),
      ...(i % 3 === 0 ? { lastUsedAt: new Date(NOW.getTime() - (i % 90) * 86_400_000) } : {}),
    }));
    const adapter = {
      name: 'aws-iam',
      capabilities: () => ({
        create: true,
        list: true,
        verify: true,
        revoke: true,
        lastUsed: true,
        nativeRotate: false,
        manual: false,
      }),
      async *list() {
        yield* listed;
      },
      // As IAM's GetAccessKeyLastUsed answers for a key the listing gave no last use: never used. Discovery asks it for
      // every such key (src/audit/key-discovery.ts), as it would ask AWS.
      async lastUsed() {
        return { at: null };
      },
    } as unknown as Provider;
    discover = await timed('discover (record 100k listed keys)', () =>
      discoverKeys({ providers: [{ name: 'aws-iam', provider: () => adapter }], db: store.db, clock: systemClock }),
    );

    // Each part of the audit step timed on its own too (seconds since the previous mark).
    let mark = process.hrtime.bigint();
    const part = (name: string) => {
      const now = process.hrtime.bigint();
      auditParts[name] = Number(now - mark) / 1e9;
      mark = now;
    };
    audit = await timed('audit (load registry, classify, quarterly audit, reports)', async () => {
      mark = process.hrtime.bigint();
      const loaded = await loadRegistry({
        root: registry,
        config,
        applyPolicy: false,
        includeEntries: true,
        useCallingThread: true,
        cache: true,
      });
      part('loadRegistry');
      const usage = new AuditUsageStore(store.db);
      const lastUse = await usage.lastUseByKey();
      const isBroadPermission = (permission: string) => permission === '*';
      // What `keyledger audit` does (src/cli/commands/audit.ts): discovery's unregistered and gone keys read back
      // and classified, then the quarterly audit over the registry, the usage and the anomalies.
      const discovery = await readAuditDiscoveryInput({
        db: store.db,
        usage,
        entries: loaded.entries.map(({ entry }) => entry),
        asOf: NOW,
        isBroadPermission,
      });
      part('discoveryInput');
      const report = runQuarterlyAudit({
        entries: loaded.entries,
        asOf: NOW,
        now: NOW,
        isBroadPermission,
        lastUse,
        providersWithUsage: await usage.providersWithUsage(),
        anomalies: await anomalyFindingsOf(store.db),
        holders: discovery.holders,
        unregisteredListed: discovery.unregisteredListed,
        goneAtProvider: discovery.goneAtProvider,
      });
      part('quarterlyAudit');
      const html = renderAuditReport(report, 'html');
      part('renderHtml');
      const markdown = renderAuditReport(report, 'markdown');
      part('renderMarkdown');
      return {
        headline: report.headline,
        findings: report.findings.length,
        html: html.length,
        markdown: markdown.length,
      };
    });
    process.stderr.write(
      `  ${Object.entries(auditParts)
        .map(([name, seconds]) => `${name} ${seconds.toFixed(2)} s`)
        .join(', ')}\n`,
    );
  }
  await store.close();
  await dropDatabase();

  // DuckDB: the same join over the same gzip files, in the same run.
  let duck: { seconds: number; value: unknown } | undefined;
  try {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    duck = await timed('duckdb join (reference)', async () => {
      const instance = await DuckDBInstance.create(':memory:');
      const connection = await instance.connect();
      await connection.run('create table keys (provider_key_id varchar, key_id varchar, owner_team varchar)');
      const appender = await connection.createAppender('keys');
      for (const { entry } of entries) {
        appender.appendVarchar(String(entry.provider_key_id));
        appender.appendVarchar(entry.key_id);
        appender.appendVarchar(entry.owner_team ?? '');
        appender.endRow();
      }
      appender.closeSync();
      const reader = await connection.runAndReadAll(`
        select k.key_id, substr(r.eventTime, 1, 10) as day, r.sourceIPAddress as source, count(*) as n,
               min(r.eventTime) as first_at, max(r.eventTime) as last_at
        from read_ndjson('${join(logs, '*.json.gz')}', columns = {eventTime: 'VARCHAR', sourceIPAddress: 'VARCHAR',
               userIdentity: 'STRUCT(accessKeyId VARCHAR)'}) r
        left join keys k on k.provider_key_id = r.userIdentity.accessKeyId
        group by all`);
      return reader.getRows().length;
    });
  } catch (error) {
    process.stderr.write(`duckdb reference not run: ${(error as Error).message}\n`);
  }

  const result = {
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model, load: loadavg() },
    engine: databaseUrl ? 'postgres' : 'sqlite',
    shape: SHAPE,
    keys: KEYS,
    records: RECORDS,
    jsonMB: Math.round(bytes / 1e6),
    ingestSeconds: ingest.seconds,
    ingestRecordsPerSecond: Math.round(RECORDS / ingest.seconds),
    ingestReadEnrichSeconds: ingest.seconds - storeSeconds,
    ingestStoreSeconds: storeSeconds,
    ingestUsageWhileReadingSeconds: usageSeconds,
    ingestCpuSeconds,
    ingestReaderThreads: THREADS ?? 'auto',
    ingest: {
      matched: ingest.value.matched,
      unregistered: ingest.value.unregistered,
      usageRows: ingest.value.usageRows,
      anomalies: ingest.value.anomalies,
      newAnomalyEvents: ingest.value.newAnomalies.length,
    },
    registryColdLoadSeconds: coldLoad.seconds,
    discoverSeconds: discover?.seconds,
    auditSeconds: audit?.seconds,
    auditParts,
    audit: audit?.value,
    duckdbJoinSeconds: duck?.seconds,
    duckdbGroups: duck?.value,
    ingestOverDuckdb: duck ? ingest.seconds / duck.seconds : undefined,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (!args.includes('--keep')) rmSync(root, { recursive: true, force: true });
}

await main();
