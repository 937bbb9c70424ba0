// bench/issue.ts (docs/benchmarks.md): issue N internal keys end to end (mint at the internal provider, store in
// the embedded encrypted store, one git commit per registry entry, one hash-chained event), on each database
// backend, through the same KeyIssuer the CLI uses. Reports keys/s per backend and where the time goes.
// Run: `npx tsx bench/issue.ts [--keys 10000] [--concurrency 8] [--backend sqlite|postgres|both]`.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openOperationalStore } from '../src/db/operational-store.js';
import { EventLog } from '../src/events/event-log.js';
import { IdempotencyRecords } from '../src/lifecycle/idempotency-records.js';
import { KeyIssuer } from '../src/lifecycle/key-issuance.js';
import { deriveVerificationKey, InternalProvider } from '../src/providers/internal/internal-provider.js';
import { defaultRegistryConfig } from '../src/registry/registry-config.js';
import { RegistryWriter } from '../src/registry/registry-writer.js';
import { GIT_TEST_ENV, makeRegistry } from '../src/registry/test-support/registry-fixtures.js';
import { systemClock } from '../src/runtime/clock.js';
import { createSecretStore } from '../src/secrets/secret-store-table.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const keys = Number(option('--keys', '10000'));
const concurrency = Number(option('--concurrency', '8'));
const backends = option('--backend', 'both') === 'both' ? ['sqlite', 'postgres'] : [option('--backend', 'sqlite')];
const adminUrl = process.env.KEYLEDGER_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

async function run(backend: string): Promise<{ backend: string; seconds: number; perSecond: number }> {
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
  const provider = new InternalProvider({
    db: operational.db,
    verificationKey: deriveVerificationKey(fingerprintKey.key),
    clock: systemClock,
  });
  const store = createSecretStore(
    'embedded',
    {},
    {
      env: { KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64') },
      cwd: dataDir,
      operationalDb: operational.db,
    },
  );
  const issuer = new KeyIssuer({
    providers: () => provider,
    stores: () => store,
    writer: new RegistryWriter({ root, config, env: GIT_TEST_ENV }),
    events: new EventLog(operational.db, systemClock),
    idempotency: new IdempotencyRecords(operational.db, systemClock),
    fingerprintKey,
    policy: config.policy,
    clock: systemClock,
  });
  const teams = ['payments', 'search', 'platform', 'data', 'identity', 'growth'];
  let next = 0;
  let done = 0;
  const started = performance.now();
  const progress = setInterval(() => process.stderr.write(`\r  ${backend}: ${done}/${keys}`), 2000);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < keys) {
        const index = next++;
        await issuer.issue({
          provider: 'internal',
          team: teams[index % teams.length]!,
          owner: `owner${index % 50}@example.com`,
          purpose: `Service ${index} calling the billing API`,
          permissions: ['invoices:read'],
          keyId: `bench-key-${String(index).padStart(6, '0')}`,
          expiresInDays: 90,
          actor: 'bench',
        });
        done++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  clearInterval(progress);
  process.stderr.write('\n');
  await operational.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
  if (backend === 'postgres') {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`drop database ${databaseName} with (force)`);
    await admin.end();
  }
  return { backend, seconds, perSecond: keys / seconds };
}

console.log(
  `machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(
  `issuing ${keys} internal keys per backend, ${concurrency} at a time (git commits are serialised by the registry writer)`,
);
for (const backend of backends) {
  const result = await run(backend);
  console.log(`  ${result.backend.padEnd(9)} ${result.seconds.toFixed(1)} s  ${result.perSecond.toFixed(1)} keys/s`);
}
