// `/metrics` at scale (docs/metrics.md, docs/benchmarks.md): a registry of KEYS entries (a git repository, ten
// teams, every key with an expiry and a rotation schedule) on the embedded store, served by the metrics module on
// a bare Fastify at port 0. Measures the first build, the scrape from the cache (plain and gzip: time and size),
// the series count, and a rebuild after a change while scrapes keep coming: the slowest scrape and the event
// loop's longest delay during it say whether a rebuild ever held a request. Run:
// `npx tsx bench/metrics.ts [--keys 100000] [--scrapes 20]` (`--keys 2000` for a quick check).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Fastify from 'fastify';
import { openKeyledgerApp } from '../src/app/keyledger-app.js';
import { renderNewEntry, teamEntryFile } from '../src/registry/registry-writer.js';
import { systemClock } from '../src/runtime/clock.js';
import type { CachedExposition } from '../src/telemetry/cached-exposition.js';
import { ControllerHeartbeat } from '../src/telemetry/controller-heartbeat.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { createMetricsModule } from '../src/telemetry/metrics-server-module.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const KEYS = option('--keys', 100_000);
const SCRAPES = option('--scrapes', 20);
const TEAMS = ['payments', 'search', 'platform', 'data', 'mobile', 'web', 'growth', 'infra', 'security', 'support'];
const NOW = Date.now();

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

const root = mkdtempSync(join(tmpdir(), 'keyledger-bench-metrics-'));
try {
  process.stderr.write(
    `machine: ${availableParallelism()} cores (${cpus()[0]?.model}), load ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}\n`,
  );
  const registry = join(root, 'registry');
  for (const team of TEAMS) mkdirSync(join(registry, 'keys', team), { recursive: true });
  writeFileSync(join(registry, 'keyledger.config.yaml'), '');
  writeFileSync(join(registry, '.gitignore'), '.keyledger/\n');
  for (let i = 0; i < KEYS; i++) {
    const team = TEAMS[i % TEAMS.length]!;
    const keyId = `${team}-key-${i.toString().padStart(6, '0')}`;
    const created = new Date(NOW - (i % 700) * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    writeFileSync(
      join(registry, teamEntryFile(team, keyId)),
      renderNewEntry({
        key_id: keyId,
        description: `bench key ${i}`,
        owner_team: team,
        created_at: created,
        expiration: new Date(Date.parse(created) + 365 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        last_rotated: created,
        status: 'active',
        scope: { provider: i % 3 === 0 ? 'stripe' : 'aws-iam', account_id: `svc-${i % 100}` },
        storage: { vault_path: `secret/${team}/${keyId}` },
        audit: { rotation_frequency_days: 180 },
      }),
    );
  }
  const git = (...gitArgs: string[]) =>
    execFileSync('git', gitArgs, {
      cwd: registry,
      stdio: 'ignore',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'b',
        GIT_AUTHOR_EMAIL: 'b@e',
        GIT_COMMITTER_NAME: 'b',
        GIT_COMMITTER_EMAIL: 'b@e',
      },
    });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'bench registry');
  process.stderr.write(`registry: ${KEYS} entries committed\n`);

  const app = await openKeyledgerApp({
    registryDir: registry,
    env: { KEYLEDGER_DATA_DIR: join(root, 'data') },
    cwd: root,
    clock: systemClock,
  });
  const heartbeat = new ControllerHeartbeat();
  heartbeat.beat(new Date());
  let cache: CachedExposition | undefined;
  const server = Fastify();
  const began = performance.now();
  await createMetricsModule({
    heartbeat,
    checkEveryMs: 200,
    onCache: (created) => {
      cache = created;
    },
  }).register(server, { app, clock: systemClock, logger: silentLogger });
  const url = `${await server.listen({ port: 0, host: '127.0.0.1' })}/metrics`;
  const first = await (await fetch(url)).text();
  const firstSeconds = (performance.now() - began) / 1000;
  const series = first.split('\n').filter((line) => line && !line.startsWith('#')).length;

  const scrape = async (gzip: boolean) => {
    const start = performance.now();
    const response = await fetch(url, gzip ? { headers: { 'accept-encoding': 'gzip' } } : {});
    const body = Buffer.from(await response.arrayBuffer());
    return { ms: performance.now() - start, bytes: body.length };
  };
  // undici decompresses gzip itself; the wire size is the cache's gzipped body.
  const plain: number[] = [];
  const zipped: number[] = [];
  for (let i = 0; i < SCRAPES; i++) plain.push((await scrape(false)).ms);
  for (let i = 0; i < SCRAPES; i++) zipped.push((await scrape(true)).ms);
  const current = await cache!.current();

  // A change (an event) makes the next check rebuild; scrape throughout and watch the event loop.
  const rebuildsBefore = cache!.rebuilds;
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  await app.events.append({ type: 'finding', actor: 'bench', keyId: 'payments-key-000000', data: { rule: 'bench' } });
  const during: number[] = [];
  const rebuildStart = performance.now();
  while (cache!.rebuilds === rebuildsBefore && performance.now() - rebuildStart < 600_000) {
    during.push((await scrape(true)).ms);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const rebuildSeconds = (performance.now() - rebuildStart) / 1000;
  delay.disable();

  const result = {
    keys: KEYS,
    series,
    firstBuildSeconds: Number(firstSeconds.toFixed(2)),
    bytesPlain: Buffer.byteLength(current.text),
    bytesGzip: current.gzipped.length,
    scrapePlainMs: { p50: Number(percentile(plain, 50).toFixed(1)), p99: Number(percentile(plain, 99).toFixed(1)) },
    scrapeGzipMs: { p50: Number(percentile(zipped, 50).toFixed(1)), p99: Number(percentile(zipped, 99).toFixed(1)) },
    rebuild: {
      seconds: Number(rebuildSeconds.toFixed(2)),
      scrapesDuring: during.length,
      slowestScrapeMs: Number(Math.max(0, ...during).toFixed(1)),
      eventLoopDelayMaxMs: Number((delay.max / 1e6).toFixed(1)),
      eventLoopDelayP99Ms: Number((delay.percentile(99) / 1e6).toFixed(1)),
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  await server.close();
  await app.close();
} finally {
  // git may still be writing in the registry (an automatic gc): retried rather than failing after the figures.
  rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}
