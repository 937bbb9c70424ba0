// Event-log throughput on both engines: single appends (one transaction each), batched appends, concurrent appends
// from several PostgreSQL pools, and chain verification. Run: `npx tsx bench/events.ts` (PostgreSQL at
// KEYLEDGER_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres, which may create databases).
// The log is keyed (HMAC-SHA256 under a chain key, as keyledger's services write it); BENCH_PLAIN=1 measures the
// plain SHA-256 chain of logs written before the key, for comparison. Anchoring is not in these figures: it runs
// after the appends, a few git processes per 100 events (src/events/event-anchors.ts).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type OpenOperationalStoreOptions, openOperationalStore } from '../src/db/operational-store.js';
import type { EventChainKey } from '../src/events/event-chain-key.js';
import { EventLog } from '../src/events/event-log.js';

const adminUrl = process.env.KEYLEDGER_BENCH_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const SINGLE = Number(process.env.BENCH_SINGLE ?? 2_000);
const BATCHED = Number(process.env.BENCH_BATCHED ?? 50_000);
const BATCH_SIZE = 500;
const CONCURRENT_POOLS = 4;
const chainKey: EventChainKey | null = process.env.BENCH_PLAIN === '1' ? null : { version: 'v1', key: randomBytes(32) };

interface Row {
  backend: string;
  case: string;
  events: number;
  seconds: number;
}

function sampleEvent(index: number) {
  return {
    type: 'rotated',
    actor: 'system:rotation-controller',
    keyId: `team-${index % 50}-stripe-${index % 1_000}`,
    data: { version: index, provider: 'stripe', reason: 'schedule', consumers: ['payments-api', 'payments-worker'] },
  };
}

async function timed(work: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function benchBackend(
  backend: 'sqlite' | 'postgres',
  options: OpenOperationalStoreOptions,
  rows: Row[],
): Promise<void> {
  const store = await openOperationalStore(options);
  try {
    const log = new EventLog(store.db, undefined, { chainKey });
    rows.push({
      backend,
      case: 'append, one transaction each',
      events: SINGLE,
      seconds: await timed(async () => {
        for (let index = 0; index < SINGLE; index += 1) await log.append(sampleEvent(index));
      }),
    });
    rows.push({
      backend,
      case: `appendMany, batches of ${BATCH_SIZE}`,
      events: BATCHED,
      seconds: await timed(async () => {
        for (let start = 0; start < BATCHED; start += BATCH_SIZE) {
          await log.appendMany(Array.from({ length: BATCH_SIZE }, (_, offset) => sampleEvent(start + offset)));
        }
      }),
    });
    if (backend === 'postgres') {
      const others = await Promise.all(
        Array.from({ length: CONCURRENT_POOLS }, () => openOperationalStore({ ...options, poolSize: 4 })),
      );
      try {
        const logs = others.map((other) => new EventLog(other.db, undefined, { chainKey }));
        rows.push({
          backend,
          case: `append from ${CONCURRENT_POOLS} pools x 4 connections at once`,
          events: SINGLE,
          seconds: await timed(async () => {
            let next = 0;
            await Promise.all(
              Array.from({ length: CONCURRENT_POOLS * 4 }, async (_, worker) => {
                while (next < SINGLE) {
                  next += 1;
                  await logs[worker % logs.length]!.append(sampleEvent(next));
                }
              }),
            );
          }),
        });
      } finally {
        await Promise.all(others.map((other) => other.close()));
      }
    }
    const total = (await log.head())?.seq ?? 0;
    let ok = false;
    const seconds = await timed(async () => {
      ok = (await log.verify()).ok;
    });
    if (!ok) throw new Error(`${backend}: the chain did not verify`);
    rows.push({ backend, case: 'verify (pages of 2,000)', events: total, seconds });
  } finally {
    await store.close();
  }
}

// With BENCH_LARGE=N, also fills a SQLite log with N events and verifies it, sampling memory as the pages go by:
// the check that verification streams rather than loads the table.
async function benchLargeVerify(count: number): Promise<string> {
  const directory = mkdtempSync(join(tmpdir(), 'keyledger-bench-large-'));
  const store = await openOperationalStore({ dataDir: directory });
  try {
    const log = new EventLog(store.db, undefined, { chainKey });
    for (let start = 0; start < count; start += 5_000) {
      await log.appendMany(
        Array.from({ length: Math.min(5_000, count - start) }, (_, offset) => sampleEvent(start + offset)),
      );
    }
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let ok = false;
    const seconds = await timed(async () => {
      ok = (await log.verify({ onProgress: () => (peak = Math.max(peak, process.memoryUsage().rss)) })).ok;
    });
    if (!ok) throw new Error('large log did not verify');
    const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
    return `verify ${count.toLocaleString('en-US')} events (sqlite): ${seconds.toFixed(1)} s, ${Math.round(count / seconds).toLocaleString('en-US')} events/s, RSS ${mib(baseline)} MiB before, ${mib(peak)} MiB peak\n`;
  } finally {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'keyledger-bench-'));
const databaseName = `keyledger_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
try {
  await benchBackend('sqlite', { dataDir }, rows);
  await admin.query(`create database "${databaseName}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${databaseName}`;
  await benchBackend('postgres', { databaseUrl: url.toString(), dataDir }, rows);
} finally {
  await admin.query(`drop database if exists "${databaseName}" with (force)`);
  await admin.end();
  rmSync(dataDir, { recursive: true, force: true });
}

const cpu = cpus();
process.stdout.write(
  `node ${process.version}, ${cpu.length} cores (${cpu[0]?.model ?? 'unknown'}); chain ${chainKey ? 'HMAC-SHA256 (keyed)' : 'plain SHA-256'}\n\n`,
);
process.stdout.write('| backend | case | events | seconds | events/s |\n|---|---|---:|---:|---:|\n');
for (const row of rows) {
  const perSecond = Math.round(row.events / row.seconds).toLocaleString('en-US');
  process.stdout.write(
    `| ${row.backend} | ${row.case} | ${row.events.toLocaleString('en-US')} | ${row.seconds.toFixed(2)} | ${perSecond} |\n`,
  );
}
const large = Number(process.env.BENCH_LARGE ?? 0);
if (large > 0) process.stdout.write(`\n${await benchLargeVerify(large)}`);
