// bench/issue.ts — issuance throughput (issues 3 and 13): issue N internal keys end to end (mint at the internal
// provider, store in the embedded encrypted store, register in git, one hash-chained event each), on each database
// backend, in two modes: `single` — KeyIssuer, one git commit per key, as `keyledger issue` does — and `batched` —
// BulkKeyIssuer, registry writes batched into one commit per batch, as `keyledger issue --from FILE` does.
// Reports keys/s, and for batched runs where the wall time goes (each step's summed wall time over the keys, and
// the CPU of this process and of git). Target (issue 13): >= 200 keys/s batched.
// Run: `npx tsx bench/issue.ts [--keys 10000] [--mode single|batched|both] [--backend sqlite|postgres|both]
//   [--concurrency 16] [--cpu-profile FILE]` (the profile covers the timed part of the last batched run).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openOperationalStore } from '../src/db/operational-store.js';
import { EventLog } from '../src/events/event-log.js';
import { BulkKeyIssuer } from '../src/lifecycle/bulk-key-issuance.js';
import { IdempotencyRecords } from '../src/lifecycle/idempotency-records.js';
import { type IssueKeyRequest, KeyIssuer } from '../src/lifecycle/key-issuance.js';
import { deriveVerificationKey, InternalProvider } from '../src/providers/internal/internal-provider.js';
import type { Provider } from '../src/providers/provider.js';
import { defaultRegistryConfig } from '../src/registry/registry-config.js';
import { RegistryWriter } from '../src/registry/registry-writer.js';
import { GIT_TEST_ENV, makeRegistry } from '../src/registry/test-support/registry-fixtures.js';
import { systemClock } from '../src/runtime/clock.js';
import type { SecretStore } from '../src/secrets/secret-store.js';
import { createSecretStore } from '../src/secrets/secret-store-table.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const keys = Number(option('--keys', '10000'));
const modeOption = option('--mode', 'both');
const modes = modeOption === 'both' ? ['single', 'batched'] : [modeOption];
const backendOption = option('--backend', 'both');
const backends = backendOption === 'both' ? ['sqlite', 'postgres'] : [backendOption];
const cpuProfile = args.includes('--cpu-profile') ? option('--cpu-profile', '') : undefined;
const adminUrl = process.env.KEYLEDGER_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
for (const mode of modes) if (!['single', 'batched'].includes(mode)) throw new Error(`--mode: unknown ${mode}`);
for (const backend of backends) if (!['sqlite', 'postgres'].includes(backend)) throw new Error(`--backend: ${backend}`);

/** CPU seconds (user + system) of this process, and of its children already waited for (git), from /proc. */
const procCpu = () => {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  const tick = (index: number) => Number(fields[index - 3]) / 100; // fields after the command, numbered as in proc(5)
  return { own: tick(14) + tick(15), git: tick(16) + tick(17) };
};

/** Summed wall time of each timed step over all keys (steps overlap across keys, so they add up to more). */
const stepTimes: Record<string, number> = {};
function timed<T>(step: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  return work().finally(() => {
    stepTimes[step] = (stepTimes[step] ?? 0) + (performance.now() - started);
  });
}

/** `target` with the named methods timed under the given step names; every method still runs on `target` itself. */
function timedCalls<T extends object>(target: T, steps: Record<string, string>): T {
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      const step = steps[String(property)];
      return step
        ? (...callArgs: unknown[]) => timed(step, () => value.apply(object, callArgs))
        : (...callArgs: unknown[]) => value.apply(object, callArgs);
    },
  });
}

interface RunResult {
  backend: string;
  mode: string;
  seconds: number;
  perSecond: number;
  commits?: number;
  failed: number;
  cpu: { own: number; git: number };
  steps: Record<string, number>;
}

async function run(backend: string, mode: string, profile: boolean): Promise<RunResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyledger-bench-issue-'));
  const databaseName = `keyledger_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  let databaseUrl: string | undefined;
  if (backend === 'postgres') {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database ${databaseName}`);
    await admin.end();
    const url = new URL(adminUrl);
    url.pathname = `/${databaseName}`;
    databaseUrl = url.toString();
  }
  const operational = await openOperationalStore(databaseUrl ? { databaseUrl, dataDir } : { dataDir });
  const root = await makeRegistry({}, { git: true });
  const config = defaultRegistryConfig();
  const fingerprintKey = { version: 'v1', key: randomBytes(32) };
  const internal = new InternalProvider({
    db: operational.db,
    verificationKey: deriveVerificationKey(fingerprintKey.key),
    clock: systemClock,
  });
  const embedded = createSecretStore(
    'embedded',
    {},
    {
      env: { KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64') },
      cwd: dataDir,
      operationalDb: operational.db,
    },
  );
  // The same provider and store, with the calls on the way timed.
  const provider = timedCalls<Provider>(internal, { create: 'provider mint' });
  const store = timedCalls<SecretStore>(embedded, { put: 'store write', exists: 'store exists (checks)' });
  class TimedEventLog extends EventLog {
    // append() goes through appendMany(): this times every event transaction, one event or many.
    override appendMany(inputs: Parameters<EventLog['appendMany']>[0]) {
      return timed('event transactions', () => super.appendMany(inputs));
    }
  }
  const writer = new RegistryWriter({ root, config, env: GIT_TEST_ENV });
  const dependencies = {
    providers: () => provider,
    stores: () => store,
    writer,
    events: new TimedEventLog(operational.db, systemClock),
    idempotency: new IdempotencyRecords(operational.db, systemClock),
    fingerprintKey,
    policy: config.policy,
    clock: systemClock,
  };
  const teams = ['payments', 'search', 'platform', 'data', 'identity', 'growth'];
  const request = (index: number): IssueKeyRequest => ({
    provider: 'internal',
    team: teams[index % teams.length]!,
    owner: `owner${index % 50}@example.com`,
    purpose: `Service ${index} calling the billing API`,
    permissions: ['invoices:read'],
    keyId: `bench-key-${String(index).padStart(6, '0')}`,
    expiresInDays: 90,
    actor: 'bench',
  });
  for (const step of Object.keys(stepTimes)) delete stepTimes[step];
  const concurrency = Number(option('--concurrency', mode === 'single' ? '8' : '16'));
  let done = 0;
  const progress = setInterval(() => process.stderr.write(`\r  ${backend} ${mode}: ${done}/${keys}`), 2000);
  const profiler = profile ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const cpuBefore = procCpu();
  const started = performance.now();
  let commits: number | undefined;
  let failed = 0;
  if (mode === 'single') {
    const issuer = new KeyIssuer(dependencies);
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < keys) {
          await issuer.issue(request(next++));
          done++;
        }
      }),
    );
  } else {
    const issuer = new BulkKeyIssuer({ ...dependencies, root, gitEnv: GIT_TEST_ENV });
    const report = await issuer.issueMany(
      Array.from({ length: keys }, (_, index) => request(index)),
      {
        concurrency,
        onProgress: (counts) => {
          done = counts.issued + counts.failed;
        },
      },
    );
    commits = report.commits;
    failed = report.failed;
    const firstFailure = report.results.find((result) => result.status === 'failed');
    if (firstFailure) process.stderr.write(`\nfirst failure: ${JSON.stringify(firstFailure)}\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = procCpu();
  clearInterval(progress);
  process.stderr.write('\n');
  if (profiler) {
    const { profile: written } = await profiler.post('Profiler.stop');
    writeFileSync(cpuProfile!, JSON.stringify(written));
    profiler.disconnect();
  }
  await operational.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
  if (backend === 'postgres') {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`drop database ${databaseName} with (force)`);
    await admin.end();
  }
  return {
    backend,
    mode,
    seconds,
    perSecond: keys / seconds,
    ...(commits !== undefined ? { commits } : {}),
    failed,
    cpu: { own: cpuAfter.own - cpuBefore.own, git: cpuAfter.git - cpuBefore.git },
    steps: Object.fromEntries(Object.entries(stepTimes).map(([step, ms]) => [step, ms / 1000])),
  };
}

console.log(
  `machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(`issuing ${keys} internal keys per backend and mode (${modes.join(', ')})`);
const lastBatched = `${backends.at(-1)}:batched`;
for (const backend of backends) {
  for (const mode of modes) {
    const result = await run(backend, mode, Boolean(cpuProfile) && `${backend}:${mode}` === lastBatched);
    console.log(
      `  ${result.backend.padEnd(9)} ${result.mode.padEnd(8)} ${result.seconds.toFixed(1).padStart(7)} s  ${result.perSecond
        .toFixed(1)
        .padStart(
          7,
        )} keys/s${result.commits !== undefined ? `  ${result.commits} commits` : ''}${result.failed ? `  ${result.failed} FAILED` : ''}`,
    );
    console.log(
      `      cpu: this process ${result.cpu.own.toFixed(1)} s, git ${result.cpu.git.toFixed(1)} s; summed step wall time: ${Object.entries(
        result.steps,
      )
        .map(([step, s]) => `${step} ${s.toFixed(1)} s`)
        .join(', ')}`,
    );
  }
}
console.log(
  `load at the end: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
