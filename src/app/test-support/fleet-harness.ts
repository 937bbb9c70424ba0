// The fleet end to end's world (src/app/fleet.e2e.test.ts, bench/scale.ts): a GitLab provider sandbox with its
// limit raised, a fresh PostgreSQL database, a git registry of N due keys (each with a live token at the sandbox and
// its secret in the embedded store on that database), a sandbox consumer using every key with its current secret
// and answering the rotations' probes, and `keyledger server` replica processes over all of it (the CLI bundled
// once with esbuild, so a restart costs node's start, not a compiler's).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
import { reapFleetLeftovers } from './fleet-leftovers.js';

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
  /** Jobs per replica (default 32, the server's own: more only queue at the sandbox and the consumer in this process). */
  concurrency?: number;
  /** GitLab projects the keys are spread over. */
  projects?: number;
  /** Extra node flags for the replica processes (bench/scale.ts: `--cpu-prof`). */
  replicaNodeArgs?: string[];
  /** Give every key a consumer (default true): its probe confirms the rotation, its calls prove the key works. */
  consumers?: boolean;
  log?: (line: string) => void;
}

/** The consumer's provider calls per second (its use of every key, and the rotations' code-path checks). */
const CONSUMER_CALLS_PER_SECOND = 100;

export async function createFleetWorld(options: FleetWorldOptions): Promise<FleetWorld> {
  const log = options.log ?? (() => undefined);
  const setupStarted = Date.now();
  const elapsed = () => `${((Date.now() - setupStarted) / 1000).toFixed(1)}s`;
  // What set-up made, undone in reverse order by stop() — or at once when set-up fails half-way, so a failed run
  // leaves no database, folder, server or bundle behind.
  const undo: Array<() => Promise<unknown>> = [];
  // Every step runs even when one fails; the first failure is thrown once all have run.
  const undoAll = async () => {
    const failures: unknown[] = [];
    for (const step of undo.splice(0).reverse()) await step().catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw failures[0];
  };
  try {
    return await setUpFleetWorld(options, log, elapsed, undo, undoAll);
  } catch (error) {
    await undoAll().catch(() => undefined);
    throw error;
  }
}

async function setUpFleetWorld(
  options: FleetWorldOptions,
  log: (line: string) => void,
  elapsed: () => string,
  undo: Array<() => Promise<unknown>>,
  undoAll: () => Promise<void>,
): Promise<FleetWorld> {
  const database = await createPostgresDatabase();
  undo.push(() => database.drop());
  const work = await mkdtemp(join(tmpdir(), 'keyledger-fleet-'));
  undo.push(() => rm(work, { recursive: true, force: true }));
  const store = await openOperationalStore({ databaseUrl: database.url, dataDir: join(work, 'unused'), poolSize: 4 });
  undo.push(() => store.close());
  const registry = join(work, 'registry');
  const dataDir = join(work, 'data');
  mkdirSync(join(registry, 'keys'), { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  log(`set-up: database migrated at ${elapsed()}`);
  const rateLimit = options.rateLimit ?? { requests: 2_000, perSeconds: 1 };
  const sandbox = await startSandbox({ org: 'none', providers: ['gitlab'], rateLimits: { gitlab: rateLimit } });
  undo.push(() => sandbox.stop());
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
  // The consumer is an application's steady use beside the fleet, not the load under test: its own client, paced
  // (its calls in a sequential loop over every key would otherwise take a core of the two from the replicas), and
  // its periodic reload slow — the rotations' probes reload a key at once (reloadOnProbe), and a key that failed
  // would keep failing until that reload, so calls every few seconds per key still catch it; `callAll` at the end
  // uses every key once more.
  const consumerProvider = createProvider(
    'gitlab',
    { ...adapterOptions, rateLimit: { requests: CONSUMER_CALLS_PER_SECOND, perSeconds: 1 } },
    { clock: systemClock },
  );
  const consumer = new ConsumerSandbox({ keys: [], refreshMs: 30_000, callMs: 1_000, reloadOnProbe: true });
  await consumer.start();
  undo.push(() => consumer.stop());

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
        if (options.consumers !== false)
          await consumer.add({ keyId, store: secrets, path, provider: consumerProvider, account });
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
    // Short leases and beats: a killed replica's jobs are taken over within seconds, not the production minute. (A
    // worker renews all its running jobs' leases in one statement every third of it, src/jobs/job-worker.ts; when it
    // took one statement per job, a 4 s lease cost more statements than the rotations themselves.)
    KEYLEDGER_JOB_LEASE_MS: '10000',
    KEYLEDGER_JOB_POLL_MS: '250',
    KEYLEDGER_REPLICA_BEAT_MS: '1000',
    // The rotation lease stays the production one (5 min, so a step may take 2 min): a killed replica's journal rows
    // are taken over at once anyway (a dead process on this host), and a minute's lease gave a step 30 s, which a
    // replica starved of CPU on a shared machine overran, turning rotations into retries and rollbacks.
    KEYLEDGER_SERVER_LOG_LEVEL: 'warn',
  };
  const bundle = await acquireCliBundle();
  undo.push(releaseCliBundle);
  log(`set-up: registry committed, CLI bundled at ${elapsed()}`);
  const started: Replica[] = [];
  undo.push(async () => {
    for (const replica of started) if (replica.child.exitCode === null) replica.child.kill('SIGKILL');
    await Promise.all(started.map((replica) => replica.exited));
  });
  const startReplica = async (extraArgs: string[] = []): Promise<Replica> => {
    const child = spawn(
      process.execPath,
      [
        ...(options.replicaNodeArgs ?? []),
        bundle,
        'server',
        '--port',
        '0',
        '--json',
        '--schedule',
        options.schedule ?? '*/10 * * * * *',
        '--concurrency',
        String(options.concurrency ?? 32),
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
    stop: undoAll,
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
 * The CLI as ES modules (native addons left outside), built once per process while some world uses it: the CLI and,
 * beside it under the names `siblingModuleUrl` (src/runtime/module-worker.ts) looks for, the worker-thread modules it
 * starts (the registry's analysis pool loads one above a few thousand entries, the scanner and the audit-log reader
 * theirs). It sits under node_modules/.cache so the bundle's imports of the addons resolve to this package's
 * node_modules; the last world to stop removes it (and process exit does, after a run that never stopped its world).
 */
let bundle: { dir: string; cli: Promise<string>; removeAtExit: () => void; users: number } | undefined;

/** The bundled CLI's path; a world's set-up holds it with acquireCliBundle, the bench's token command borrows it. */
export function bundleCli(): Promise<string> {
  bundle ??= { ...buildCliBundle(), users: 0 };
  return bundle.cli;
}

/** Holds the bundle (a world's set-up does; the bench across its worlds, so it is built once): release it after. */
export async function acquireCliBundle(): Promise<string> {
  const cli = bundleCli();
  bundle!.users += 1;
  return cli;
}

export async function releaseCliBundle(): Promise<void> {
  if (!bundle) return;
  bundle.users -= 1;
  if (bundle.users > 0) return;
  const { dir, cli, removeAtExit } = bundle;
  bundle = undefined;
  process.off('exit', removeAtExit);
  await cli.catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}

function buildCliBundle(): { dir: string; cli: Promise<string>; removeAtExit: () => void } {
  const cacheDir = join(packageRoot(), 'node_modules', '.cache');
  // A harness killed before it stopped its world left its replicas running and its bundle here: reap them first.
  const reaped = reapFleetLeftovers(cacheDir);
  if (reaped.bundles.length > 0) {
    process.stderr.write(
      `[fleet] removed ${reaped.bundles.length} bundle(s) of harness processes that are gone, killed ${reaped.processes.length} replica(s) they left\n`,
    );
  }
  const dir = join(cacheDir, `keyledger-fleet-${process.pid}`);
  // The last resort: a process that exits with a world still up (a test that timed out) removes the bundle too.
  const removeAtExit = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeAtExit);
  const cli = (async () => {
    mkdirSync(dir, { recursive: true });
    // The bundles are ES modules named `.js`, as the compiled build's siblings are.
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    const src = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    await build({
      entryPoints: {
        'keyledger-cli': join(src, 'cli', 'run-for-dev.ts'),
        'registry-analysis-worker': join(src, 'registry', 'registry-analysis-worker.ts'),
        'scan-worker': join(src, 'scan', 'workers', 'scan-worker.ts'),
        'audit-log-enrichment-worker': join(src, 'audit', 'audit-log-enrichment-worker.ts'),
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['better-sqlite3', 're2', 'pg-native', 'esbuild', 'duckdb', '@duckdb/*'],
      banner: {
        js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      },
      outdir: dir,
      logLevel: 'error',
    });
    return join(dir, 'keyledger-cli.js');
  })();
  return { dir, cli, removeAtExit };
}
