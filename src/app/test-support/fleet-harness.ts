// The fleet end to end's world (src/app/fleet.e2e.test.ts, bench/scale.ts): a GitLab provider sandbox with its
// limit raised, a fresh PostgreSQL database, a git registry of N due keys (each with a live token at the sandbox and
// its secret in the embedded store on that database), a sandbox consumer using every key with its current secret
// and answering the rotations' probes, and `keyledger server` replica processes over all of it (the CLI bundled
// once with esbuild, so a restart costs node's start, not a compiler's).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import pg from 'pg';
import { type OperationalStore, openOperationalStore } from '../../db/operational-store.js';
import { runGit } from '../../git/git-command.js';
import type { Provider } from '../../providers/provider.js';
import { createProvider } from '../../providers/provider-table.js';
import { formatInstant } from '../../registry/registry-dates.js';
import { renderNewEntry } from '../../registry/registry-writer.js';
import { GIT_TEST_ENV } from '../../registry/test-support/registry-fixtures.js';
import { systemClock } from '../../runtime/clock.js';
import { packageRoot } from '../../runtime/package-paths.js';
import { ConsumerSandbox } from '../../sandbox/consumer/consumer-sandbox.js';
import { SandboxControlClient } from '../../sandbox/sandbox-control-client.js';
import { type RunningSandbox, startSandbox } from '../../sandbox/start-sandbox.js';
import { MasterKeyring, masterKeyFromBytes, staticMasterKeySource } from '../../secrets/embedded/embedded-keyring.js';
import { EmbeddedSecretStore } from '../../secrets/embedded/embedded-secret-store.js';
import { fingerprintSecret } from '../../secrets/secret-fingerprint.js';

export interface FleetWorld {
  registry: string;
  store: OperationalStore;
  sandbox: RunningSandbox;
  control: SandboxControlClient;
  provider: Provider;
  consumer: ConsumerSandbox;
  keyIds: string[];
  /** The sandbox's budget for the GitLab API (requests per second), as the adapter is paced to it too. */
  rateLimit: { requests: number; perSeconds: number };
  /** The environment a replica runs with. */
  env: NodeJS.ProcessEnv;
  startReplica(extraArgs?: string[]): Promise<Replica>;
  stop(): Promise<void>;
}

export interface Replica {
  child: ChildProcess;
  url: string;
  /** The last lines it wrote on stderr (JSON logs), for a failure's message. */
  tail(): string;
  exited: Promise<number | null>;
}

export interface FleetWorldOptions {
  keys: number;
  rateLimit?: { requests: number; perSeconds: number };
  /** How often the due tick runs (cron with seconds). */
  schedule?: string;
  /** Jobs per replica. */
  concurrency?: number;
  /** GitLab projects the keys are spread over. */
  projects?: number;
  /** Give every key a consumer (default true): its probe confirms the rotation, its calls prove the key works. */
  consumers?: boolean;
  log?: (line: string) => void;
}

export async function createFleetWorld(options: FleetWorldOptions): Promise<FleetWorld> {
  const log = options.log ?? (() => undefined);
  const setupStarted = Date.now();
  const elapsed = () => `${((Date.now() - setupStarted) / 1000).toFixed(1)}s`;
  const database = await createPostgresDatabase();
  const work = await mkdtemp(join(tmpdir(), 'keyledger-fleet-'));
  const store = await openOperationalStore({ databaseUrl: database.url, dataDir: join(work, 'unused'), poolSize: 4 });
  const registry = join(work, 'registry');
  const dataDir = join(work, 'data');
  mkdirSync(join(registry, 'keys'), { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  log(`set-up: database migrated at ${elapsed()}`);
  const rateLimit = options.rateLimit ?? { requests: 2_000, perSeconds: 1 };
  const sandbox = await startSandbox({ org: 'none', providers: ['gitlab'], rateLimits: { gitlab: rateLimit } });
  const control = new SandboxControlClient(sandbox.urls.gitlab!);
  const masterKey = randomBytes(32);
  const fingerprintKey = { version: 'v1', key: randomBytes(32) };
  const secrets = new EmbeddedSecretStore({
    db: store.db,
    keys: staticMasterKeySource(new MasterKeyring(masterKeyFromBytes(masterKey, 'fleet test'))),
    clock: systemClock,
  });
  const adapterOptions = {
    ...sandbox.providerOptions('gitlab'),
    rateLimit,
    retry: { baseDelayMs: 50, maxDelayMs: 2_000 },
  };
  const provider = createProvider('gitlab', adapterOptions, { clock: systemClock });
  await writeFile(join(dataDir, 'providers.json'), JSON.stringify({ gitlab: adapterOptions }), { mode: 0o600 });
  const consumer = new ConsumerSandbox({ keys: [], refreshMs: 5_000, callMs: 1_000, reloadOnProbe: true });
  await consumer.start();

  const lastRotated = formatInstant(new Date(Date.now() - 40 * 86_400_000));
  const keyIds = Array.from({ length: options.keys }, (_, n) => `fleet-key-${String(n).padStart(5, '0')}`);
  const projects = options.projects ?? 3;
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let n = next++; n < keyIds.length; n = next++) {
        const keyId = keyIds[n]!;
        const account = `project:${1 + (n % projects)}`;
        const created = await provider.create({ name: keyId, account, permissions: ['api'] });
        const path = `fleet/${keyId}`;
        await secrets.put(path, created.secret, {
          stage: 'current',
          metadata: { key_id: keyId, provider: 'gitlab', provider_key_id: created.providerKeyId },
        });
        const entry = {
          key_id: keyId,
          purpose: 'the fleet end to end',
          owner_team: 'platform',
          owner_individual: 'fleet@example.com',
          created_at: lastRotated,
          expiration: formatInstant(new Date(Date.now() + 300 * 86_400_000)),
          last_rotated: lastRotated,
          status: 'active',
          provider_key_id: created.providerKeyId,
          fingerprint: fingerprintSecret(created.secret, fingerprintKey),
          scope: { provider: 'gitlab', account_id: account, permissions: ['api'] },
          storage: { store: 'default', path },
          ...(options.consumers === false
            ? {}
            : { consumed_by: [{ service: `svc-${n}`, probe: consumer.probeFor(keyId) }] }),
          audit: { rotation_owner: 'platform', rotation_frequency_days: 30 },
        };
        await writeFile(join(registry, 'keys', `${keyId}.yaml`), renderNewEntry(entry));
        if (options.consumers !== false) await consumer.add({ keyId, store: secrets, path, provider, account });
        if ((n + 1) % 1_000 === 0) log(`set-up: ${n + 1}/${keyIds.length} keys`);
      }
    }),
  );
  log(`set-up: ${keyIds.length} keys minted, stored and registered at ${elapsed()}`);
  await writeFile(join(registry, '.gitignore'), '.keyledger/\n');
  await runGit(['init', '--quiet', '--initial-branch=main'], { cwd: registry, env: GIT_TEST_ENV });
  await runGit(['add', '-A'], { cwd: registry, env: GIT_TEST_ENV });
  await runGit(['commit', '--quiet', '-m', 'fleet registry'], { cwd: registry, env: GIT_TEST_ENV });

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...GIT_TEST_ENV,
    KEYLEDGER_REGISTRY: registry,
    KEYLEDGER_DATA_DIR: dataDir,
    KEYLEDGER_DATABASE_URL: database.url,
    KEYLEDGER_MASTER_KEY: masterKey.toString('base64'),
    KEYLEDGER_FINGERPRINT_KEY: fingerprintKey.key.toString('hex'),
    // Short leases and beats: a killed replica's jobs are taken over within seconds, not the production minute.
    KEYLEDGER_JOB_LEASE_MS: '4000',
    KEYLEDGER_JOB_POLL_MS: '250',
    KEYLEDGER_REPLICA_BEAT_MS: '1000',
    KEYLEDGER_ROTATION_LEASE_MS: '60000',
    KEYLEDGER_SERVER_LOG_LEVEL: 'warn',
  };
  const bundle = await bundleCli();
  log(`set-up: registry committed, CLI bundled at ${elapsed()}`);
  const started: Replica[] = [];
  const startReplica = async (extraArgs: string[] = []): Promise<Replica> => {
    const child = spawn(
      process.execPath,
      [
        bundle,
        'server',
        '--port',
        '0',
        '--json',
        '--schedule',
        options.schedule ?? '*/10 * * * * *',
        '--concurrency',
        String(options.concurrency ?? 96),
        ...extraArgs,
      ],
      { cwd: registry, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-8_000);
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const line = stdout.split('\n').find((text) => text.startsWith('{"url"'));
        if (line) {
          clearInterval(timer);
          resolve((JSON.parse(line) as { url: string }).url);
        }
      }, 50);
      void exited.then((code) => {
        clearInterval(timer);
        reject(new Error(`a replica exited (${code}) before it listened: ${stderr}`));
      });
    });
    const replica = { child, url, exited, tail: () => stderr };
    started.push(replica);
    return replica;
  };
  return {
    registry,
    store,
    sandbox,
    control,
    provider,
    consumer,
    keyIds,
    rateLimit,
    env,
    startReplica,
    stop: async () => {
      for (const replica of started) if (replica.child.exitCode === null) replica.child.kill('SIGKILL');
      await Promise.all(started.map((replica) => replica.exited));
      await consumer.stop();
      await sandbox.stop();
      await store.close();
      await database.drop();
      await rm(work, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh database on the test PostgreSQL (KEYLEDGER_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/
 * postgres), named like src/db/test-support/test-databases.ts names its own; that module imports vitest, and the
 * bench (bench/scale.ts) runs this harness outside it.
 */
async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.KEYLEDGER_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `keyledger_test_${process.pid}_${randomBytes(5).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists "${name}" with (force)`) };
}

/**
 * The CLI as ES modules (native addons left outside), built once per process: the CLI and, beside it under the names
 * `siblingModuleUrl` (src/runtime/module-worker.ts) looks for, the worker-thread modules it starts (the registry's
 * analysis pool loads one above a few thousand entries, the scanner and the audit-log reader theirs).
 */
let bundled: Promise<string> | undefined;
export function bundleCli(): Promise<string> {
  bundled ??= (async () => {
    const outDir = join(packageRoot(), 'node_modules', '.cache', `keyledger-fleet-${process.pid}`);
    mkdirSync(outDir, { recursive: true });
    // The bundles are ES modules named `.js`, as the compiled build's siblings are.
    writeFileSync(join(outDir, 'package.json'), '{"type":"module"}\n');
    const src = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    await build({
      entryPoints: {
        'keyledger-cli': join(src, 'cli', 'run-for-dev.ts'),
        'registry-analysis-worker': join(src, 'registry', 'registry-analysis-worker.ts'),
        'scan-worker': join(src, 'scan', 'workers', 'scan-worker.ts'),
        'audit-log-read-worker': join(src, 'audit-logs', 'audit-log-read-worker.ts'),
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['better-sqlite3', 're2', 'pg-native', 'esbuild', 'duckdb', '@duckdb/*'],
      banner: {
        js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      },
      outdir: outDir,
      logLevel: 'error',
    });
    return join(outDir, 'keyledger-cli.js');
  })();
  return bundled;
}
