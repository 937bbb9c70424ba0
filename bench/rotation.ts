// Bulk rotation under provider rate limits: KEYS due keys across the internal provider and the AWS IAM
// and GitLab sandboxes, each sandbox enforcing its request budget (and each adapter pacing itself to it), rotated
// by the scheduler with registry updates batched into few commits. Reports the total time against the lower bound
// the rate limits set — for each provider keys x requests-per-rotation / allowed requests-per-second, the slowest
// provider being the bound since providers run side by side — as a ratio (target: within 1.2x).
// The sandboxes run in a child process (bench/rotation-sandbox.ts), so this process measures keyledger itself; the
// report gives both processes' CPU time, git's, and the machine's load average during the timed part.
// Run: `npx tsx bench/rotation.ts` (env: KEYS=10000, AWS_RPS=150, GITLAB_RPS=90, CONCURRENCY=32, LAYOUT=flat|team;
// CPU_PROFILE=<file> writes a V8 CPU profile of the timed part only, for chrome://inspect or speedscope).
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { openOperationalStore } from '../src/db/operational-store.js';
import { EventLog } from '../src/events/event-log.js';
import { runGit } from '../src/git/git-command.js';
import { createConsumerConfirmers } from '../src/lifecycle/rotation/consumers/consumer-confirmer-table.js';
import { KeyRotator } from '../src/lifecycle/rotation/key-rotator.js';
import { RegistryRotationBatcher } from '../src/lifecycle/rotation/registry-rotation-batcher.js';
import { findDueKeys } from '../src/lifecycle/rotation/rotation-due.js';
import { RotationJournal } from '../src/lifecycle/rotation/rotation-journal.js';
import { RotationScheduler, requestsPerRotation } from '../src/lifecycle/rotation/rotation-scheduler.js';
import { deriveVerificationKey, InternalProvider } from '../src/providers/internal/internal-provider.js';
import type { Provider } from '../src/providers/provider.js';
import { createProvider } from '../src/providers/provider-table.js';
import { defaultRegistryConfig } from '../src/registry/registry-config.js';
import { formatInstant } from '../src/registry/registry-dates.js';
import { loadRegistry } from '../src/registry/registry-loader.js';
import { RegistryWriter, renderNewEntry } from '../src/registry/registry-writer.js';
import { GIT_TEST_ENV } from '../src/registry/test-support/registry-fixtures.js';
import { systemClock } from '../src/runtime/clock.js';
import { SandboxControlClient } from '../src/sandbox/sandbox-control-client.js';
import { MasterKeyring, masterKeyFromBytes, staticMasterKeySource } from '../src/secrets/embedded/embedded-keyring.js';
import { EmbeddedSecretStore } from '../src/secrets/embedded/embedded-secret-store.js';
import { fingerprintSecret } from '../src/secrets/secret-fingerprint.js';
import { startSandboxProcess } from './rotation-sandbox.js';

const KEYS = Number(process.env.KEYS ?? 10_000);
const AWS_RPS = Number(process.env.AWS_RPS ?? 150);
const GITLAB_RPS = Number(process.env.GITLAB_RPS ?? 90);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);
const LAYOUT = process.env.LAYOUT ?? 'flat';
const SHARE = { internal: 0.4, 'aws-iam': 0.3, gitlab: 0.3 } as const;

const work = mkdtempSync(join(tmpdir(), 'keyledger-rotation-bench-'));
const root = join(work, 'registry');
mkdirSync(join(root, 'keys'), { recursive: true });
const log = (line: string) => process.stderr.write(`${line}\n`);
/** CPU seconds (user + system) of a process, and of its children already waited for (git), from /proc. */
const procCpu = (pid: number | 'self') => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const tick = (index: number) => Number(fields[index - 3]) / 100; // fields after the command, numbered as in proc(5)
  return { own: tick(14) + tick(15), children: tick(16) + tick(17) };
};

const operational = await openOperationalStore({ dataDir: join(work, 'data') });
const clock = systemClock;
const fingerprintKey = { version: 'v1', key: randomBytes(32) };
const store = new EmbeddedSecretStore({
  db: operational.db,
  keys: staticMasterKeySource(new MasterKeyring(masterKeyFromBytes(randomBytes(32), 'bench'))),
  clock,
});
const events = new EventLog(operational.db, clock);
const sandbox = await startSandboxProcess(['aws-iam', 'gitlab']);
const control = {
  'aws-iam': new SandboxControlClient(sandbox.urls['aws-iam']!),
  gitlab: new SandboxControlClient(sandbox.urls.gitlab!),
};
const fast = { retry: { baseDelayMs: 50, maxDelayMs: 2_000 } };
const makeProviders = (paced: boolean): Record<string, Provider> => ({
  internal: new InternalProvider({
    db: operational.db,
    verificationKey: deriveVerificationKey(fingerprintKey.key),
    clock,
  }),
  'aws-iam': createProvider(
    'aws-iam',
    { ...sandbox.providerOptions('aws-iam'), ...fast, rateLimit: paced ? { requests: AWS_RPS, perSeconds: 1 } : 'off' },
    { clock },
  ),
  gitlab: createProvider(
    'gitlab',
    {
      ...sandbox.providerOptions('gitlab'),
      ...fast,
      rateLimit: paced ? { requests: GITLAB_RPS, perSeconds: 1 } : 'off',
    },
    { clock },
  ),
});

try {
  // Set-up (not timed): KEYS registry entries in one commit, each with a live key at its provider and in the store.
  const setupStarted = performance.now();
  const setupProviders = makeProviders(false);
  const counts = {
    internal: Math.round(KEYS * SHARE.internal),
    'aws-iam': Math.round(KEYS * SHARE['aws-iam']),
    gitlab: 0,
  };
  counts.gitlab = KEYS - counts.internal - counts['aws-iam'];
  const lastRotated = formatInstant(new Date(Date.now() - 40 * 86_400_000));
  let index = 0;
  const setUpKey = async (providerName: keyof typeof counts, n: number) => {
    const keyId = `bench-${providerName}-${n}`;
    let account: string;
    if (providerName === 'aws-iam') {
      account = `bench-user-${n}`;
      await control['aws-iam'].call('POST', 'users', { userName: account });
    } else if (providerName === 'gitlab') account = `project:${1 + (n % 3)}`;
    else account = `svc-${n}`;
    // A create whose answer was lost (a connection reset by the sandbox process) is not retried by the adapter, as
    // it may have happened: here, whatever the account holds besides is deleted first, then it is tried again.
    const create = async (attempt: number): Promise<Awaited<ReturnType<Provider['create']>>> => {
      try {
        return await setupProviders[providerName]!.create({ name: keyId, account, permissions: ['api'] });
      } catch (error) {
        if (attempt >= 3 || providerName === 'internal') throw error;
        log(`set-up: ${keyId}: ${(error as Error).message}; retrying`);
        // AWS allows two keys per user: one left behind would make the rotation refuse. (A GitLab project has room.)
        if (providerName === 'aws-iam')
          for await (const key of setupProviders[providerName]!.list({ account }))
            await setupProviders[providerName]!.revoke({ providerKeyId: key.providerKeyId, account });
        return create(attempt + 1);
      }
    };
    const created = await create(1);
    const path = `bench/${keyId}`;
    await store.put(path, created.secret, {
      stage: 'current',
      metadata: { key_id: keyId, provider: providerName, provider_key_id: created.providerKeyId },
    });
    const entry = {
      key_id: keyId,
      purpose: 'rotation benchmark',
      owner_team: 'platform',
      owner_individual: 'bench@example.com',
      created_at: lastRotated,
      expiration: formatInstant(new Date(Date.now() + 300 * 86_400_000)),
      last_rotated: lastRotated,
      status: 'active',
      provider_key_id: created.providerKeyId,
      fingerprint: fingerprintSecret(created.secret, fingerprintKey),
      scope: { provider: providerName, account_id: account, permissions: ['api'] },
      storage: { store: 'default', path },
      audit: { rotation_owner: 'platform', rotation_frequency_days: 30 },
    };
    // LAYOUT=team: where `keyledger issue` puts entries (keys/<team>/<key_id>.yaml), 10 teams; default flat keys/.
    const file =
      LAYOUT === 'team' ? join(root, 'keys', `team-${n % 10}`, `${keyId}.yaml`) : join(root, 'keys', `${keyId}.yaml`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, renderNewEntry(entry));
    index += 1;
    if (index % 2_000 === 0) log(`set-up: ${index}/${KEYS} keys`);
  };
  const jobs: Array<() => Promise<void>> = [];
  for (const name of Object.keys(counts) as Array<keyof typeof counts>)
    for (let n = 0; n < counts[name]; n++) jobs.push(() => setUpKey(name, n));
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let job = jobs.shift(); job; job = jobs.shift()) await job();
    }),
  );
  await runGit(['init', '--quiet', '--initial-branch=main'], { cwd: root, env: GIT_TEST_ENV });
  await runGit(['add', '-A'], { cwd: root, env: GIT_TEST_ENV });
  await runGit(['commit', '--quiet', '-m', 'bench registry'], { cwd: root, env: GIT_TEST_ENV });
  log(`set-up: ${KEYS} keys in ${((performance.now() - setupStarted) / 1000).toFixed(1)}s`);

  // The rate limits, enforced by the sandboxes and honoured by the adapters.
  await control['aws-iam'].setRateLimit({ requests: AWS_RPS, perSeconds: 1 });
  await control.gitlab.setRateLimit({ requests: GITLAB_RPS, perSeconds: 1 });
  const providers = makeProviders(true);
  const providerOf = (name: string) => providers[name]!;
  const config = defaultRegistryConfig();
  const writer = new RegistryWriter({ root, config, env: GIT_TEST_ENV });
  // A rotation waiting for its batch holds no provider slot (releaseSlot below), so batches can wait 2 s for more
  // rotations to join: fewer commits, each ~0.2-0.3 s of CPU on a 10,000-file registry.
  const batcher = new RegistryRotationBatcher({ writer, root, gitEnv: GIT_TEST_ENV, lingerMs: 2_000, maxBatch: 2_000 });
  const journal = new RotationJournal(operational.db, clock, events);
  const rotator = new KeyRotator({
    providers: providerOf,
    stores: () => store,
    writer,
    registryRoot: root,
    journal,
    fingerprintKey,
    confirmers: createConsumerConfirmers({ clock, env: process.env }),
    clock,
    // Past its last provider call, a rotation waits for the batch commit without holding its provider's slot.
    recordInRegistry: (record) => {
      scheduler.releaseSlot(record.keyId);
      return batcher.record(record);
    },
    options: { retryBaseMs: 200, maxAttempts: 12 },
  });
  const scheduler = new RotationScheduler({ rotator, providers: providerOf, clock });

  const loadSamples = [loadavg()[0]!];
  // Every 10 s: the load average, and each provider's rotations done and sandbox requests served in the interval
  // (a rate-bound provider that falls below its budget here is being held up by something else).
  const doneBy: Record<string, number> = {};
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
  let lastRequests = {
    aws: total(await control['aws-iam'].requestCounts()),
    gitlab: total(await control.gitlab.requestCounts()),
  };
  let lastTick = performance.now();
  const sampler = setInterval(() => {
    loadSamples.push(loadavg()[0]!);
    void Promise.all([control['aws-iam'].requestCounts(), control.gitlab.requestCounts()]).then(([aws, gitlab]) => {
      const now = performance.now();
      const seconds = (now - lastTick) / 1000;
      const requests = { aws: total(aws), gitlab: total(gitlab) };
      log(
        `${((now - started) / 1000).toFixed(0)}s load ${loadavg()[0]!.toFixed(1)}: done ${JSON.stringify(doneBy)}; req/s aws ${((requests.aws - lastRequests.aws) / seconds).toFixed(1)} gitlab ${((requests.gitlab - lastRequests.gitlab) / seconds).toFixed(1)}`,
      );
      lastRequests = requests;
      lastTick = now;
    });
  }, 10_000);
  const profiler = process.env.CPU_PROFILE ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const cpuBefore = { bench: procCpu('self'), sandbox: procCpu(sandbox.pid) };
  const started = performance.now();
  const entries = (await loadRegistry({ root, config, applyPolicy: false, includeEntries: true })).entries;
  const due = findDueKeys(entries, { now: new Date(), expiryWarningDays: 30 });
  const detectSeconds = (performance.now() - started) / 1000;
  const finishedAt: Record<string, number> = {};
  let done = 0;
  const report = await scheduler.run(due, {
    concurrency: CONCURRENCY,
    onOutcome: (keyId, outcome) => {
      if (outcome.status !== 'done') return;
      const name = keyId.split('-')[1] === 'aws' ? 'aws-iam' : keyId.split('-')[1]!;
      finishedAt[name] = performance.now();
      doneBy[name] = (doneBy[name] ?? 0) + 1;
      done += 1;
      if (done % 1_000 === 0)
        log(`${done}/${due.length} rotated, ${((performance.now() - started) / 1000).toFixed(1)}s`);
    },
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  loadSamples.push(loadavg()[0]!);
  const cpuAfter = { bench: procCpu('self'), sandbox: procCpu(sandbox.pid) };
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(process.env.CPU_PROFILE!, JSON.stringify(profile));
    profiler.disconnect();
  }

  const bounds = Object.fromEntries(
    (Object.keys(counts) as Array<keyof typeof counts>).map((name) => {
      const provider = providers[name]!;
      const limit = provider.rateLimit();
      const rps = limit.requests / limit.perSeconds;
      return [
        name,
        {
          keys: counts[name],
          requestsPerRotation: requestsPerRotation(provider),
          requestsPerSecond: rps,
          boundSeconds: (counts[name] * requestsPerRotation(provider)) / rps,
          finishedSeconds: ((finishedAt[name] ?? started) - started) / 1000,
        },
      ];
    }),
  );
  const bound = Math.max(...Object.values(bounds).map((b) => b.boundSeconds));
  const requests = {
    'aws-iam': await control['aws-iam'].requestCounts(),
    gitlab: await control.gitlab.requestCounts(),
  };
  const rateLimited = { 'aws-iam': requests['aws-iam'], gitlab: requests.gitlab };
  const dirty = (await runGit(['status', '--porcelain'], { cwd: root, env: GIT_TEST_ENV })).trim();
  const result = {
    keys: KEYS,
    due: due.length,
    dueDetectionSeconds: Number(detectSeconds.toFixed(2)),
    done: report.done,
    rolledBack: report.rolledBack,
    failed: report.failed,
    deferred: report.deferred,
    errors: report.errors.length,
    seconds: Number(seconds.toFixed(1)),
    boundSeconds: Number(bound.toFixed(1)),
    ratio: Number((seconds / bound).toFixed(3)),
    registryCommits: batcher.commits,
    journalTransactions: { ...journal.groupStats },
    registryClean: dirty === '',
    machine: {
      cores: cpus().length,
      node: process.version,
      loadAverage1m: {
        min: Math.min(...loadSamples),
        max: Math.max(...loadSamples),
        mean: Number((loadSamples.reduce((a, b) => a + b, 0) / loadSamples.length).toFixed(2)),
      },
    },
    cpuSeconds: {
      bench: Number((cpuAfter.bench.own - cpuBefore.bench.own).toFixed(1)),
      git: Number((cpuAfter.bench.children - cpuBefore.bench.children).toFixed(1)),
      sandbox: Number((cpuAfter.sandbox.own - cpuBefore.sandbox.own).toFixed(1)),
    },
    providers: bounds,
    sandboxRequests: rateLimited,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  log(
    `\n${KEYS} keys: ${result.done} rotated in ${result.seconds}s; rate-limit bound ${result.boundSeconds}s; ratio ${result.ratio} (target <= 1.2)`,
  );
} finally {
  await sandbox.stop();
  await operational.close();
  rmSync(work, { recursive: true, force: true });
}
