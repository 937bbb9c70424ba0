// Local state belongs to the registry (docs/cli.md): `issue --registry reg` run from another folder keeps its
// keys and store in reg/.keyledger, `revoke` from inside reg finds them, and `scan --registry reg` attributes a
// leak with reg's fingerprint key even when a stray .keyledger/ sits in the working directory. On both engines.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openKeyledgerApp } from '../../app/keyledger-app.js';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { runGit } from '../../git/git-command.js';
import type { Provider } from '../../providers/provider.js';
import { GIT_TEST_ENV, makeRegistry } from '../../registry/test-support/registry-fixtures.js';
import { fixedClock } from '../../runtime/clock.js';
import { runCli } from '../test-support/run-cli.js';

const ISSUE = [
  'issue',
  '--provider',
  'internal',
  '--team',
  'payments',
  '--owner',
  'alice@example.com',
  '--purpose',
  'Billing',
  '--key-id',
  'payments-billing',
];

forEachBackend((backend) => {
  async function setUp() {
    const database = await backend.createDatabase();
    const registry = await makeRegistry({ '.gitignore': '.keyledger/\n', 'keyledger.config.yaml': '' }, { git: true });
    const elsewhere = await mkdtemp(join(tmpdir(), 'keyledger-elsewhere-'));
    // A stray data folder in the working directory, as an earlier run from there would have left.
    const stray = Buffer.alloc(32, 9).toString('base64');
    await mkdir(join(elsewhere, '.keyledger'));
    await writeFile(join(elsewhere, '.keyledger', 'fingerprint.key'), `v1:${stray}\n`);
    const env: NodeJS.ProcessEnv = {
      ...GIT_TEST_ENV,
      KEYLEDGER_DATABASE_URL: database.options.databaseUrl ?? '',
      KEYLEDGER_DATA_DIR: '',
      KEYLEDGER_REGISTRY: '',
      KEYLEDGER_MASTER_KEY: '',
      KEYLEDGER_FINGERPRINT_KEY: '',
      KEYLEDGER_PROVIDERS_FILE: '',
    };
    return { registry, elsewhere, env };
  }

  it('issue --registry from another folder, revoke from inside the registry, scan --registry from outside', async () => {
    const { registry, elsewhere, env } = await setUp();
    const issued = await runCli([...ISSUE, '--registry', registry, '--json'], { cwd: elsewhere, env });
    expect(issued.code, issued.stderr).toBe(0);
    const dataDir = join(registry, '.keyledger');
    expect(existsSync(join(dataDir, 'fingerprint.key'))).toBe(true);
    expect(existsSync(join(dataDir, 'master.key'))).toBe(true);
    // Nothing new in the working directory's stray folder: no second master key, database or fingerprint key.
    expect((await readdir(join(elsewhere, '.keyledger'))).sort()).toEqual(['fingerprint.key']);

    // The leaked secret, as the registry's own store holds it.
    const app = await openKeyledgerApp({
      registryDir: registry,
      env,
      cwd: registry,
      clock: fixedClock('2026-11-23T12:00:00Z'),
    });
    const secret = (await app.secretStore('default').get('payments/payments-billing'))!.value.reveal();
    await app.close();
    await writeFile(join(elsewhere, 'leak.env'), `BILLING_API_KEY=${secret}\n`);
    const scan = await runCli(['scan', 'dir', 'leak.env', '--registry', registry, '--json', '--redact'], {
      cwd: elsewhere,
      env,
    });
    expect(scan.code, scan.stderr).toBe(1);
    expect(JSON.parse(scan.stdout)[0]).toMatchObject({ KeyID: 'payments-billing', OwnerTeam: 'payments' });
    expect(scan.stdout).not.toContain(secret);

    const revoked = await runCli(['revoke', 'payments-billing', '--json'], { cwd: join(registry, 'keys'), env });
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ keyId: 'payments-billing', resumed: false });
    expect(JSON.parse(revoked.stdout).steps[0]).toMatch(/^revoked internal key ik_/);
  });

  it('revoke of an entry with an uncommitted edit changes nothing; its --json error says what was not done', async () => {
    const { registry, env } = await setUp();
    expect((await runCli(ISSUE, { cwd: registry, env })).code).toBe(0);
    const file = join(registry, 'keys', 'payments', 'payments-billing.yaml');
    const committed = await readFile(file, 'utf8');
    await appendFile(file, '# edited, not committed\n');
    const refused = await runCli(['revoke', 'payments-billing', '--json'], { cwd: registry, env });
    expect(refused.code).toBe(2);
    const { error } = JSON.parse(refused.stdout);
    expect(error).toMatchObject({ code: 'E_REGISTRY_DIRTY', category: 'conflict', done: [] });
    expect(error.notDone).toEqual([
      expect.stringMatching(/^revoke internal key ik_/),
      'delete the secret at default:payments/payments-billing',
      'mark payments-billing revoked in the registry',
      'log the revoked event',
    ]);
    const events = await runCli(['events', '--type', 'revoked', '--json'], { cwd: registry, env });
    expect(JSON.parse(events.stdout).count).toBe(0);
    expect((await runCli(['revoke', '--resume'], { cwd: registry, env })).stdout).toBe(
      'Nothing to resume: no revoke is pending.\n',
    );

    await runGit(['checkout', '--', file], { cwd: registry });
    expect(await readFile(file, 'utf8')).toBe(committed);
    const revoked = await runCli(['revoke', 'payments-billing'], { cwd: registry, env });
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(/^Revoked payments-billing\n {2}- revoked internal key ik_/);
  });

  it('a revoke the provider failed stays pending; `revoke --resume` finishes it', async () => {
    const { registry, env } = await setUp();
    expect((await runCli(ISSUE, { cwd: registry, env })).code).toBe(0);
    // The provider answers reads but refuses the revoke itself: the failure comes after the plan is journalled.
    const refusing = {
      name: 'internal',
      capabilities: () => ({
        create: true,
        list: true,
        verify: true,
        revoke: true,
        lastUsed: false,
        nativeRotate: false,
        manual: false,
      }),
      rateLimit: () => ({ requests: 100, perSeconds: 1 }),
      list: async function* () {},
      revoke: async () => {
        throw new Error('injected fault: provider unavailable');
      },
    } as unknown as Provider;
    const app = await openKeyledgerApp({
      registryDir: registry,
      env,
      cwd: registry,
      clock: fixedClock('2026-11-23T12:00:00Z'),
      providerOverrides: { internal: refusing },
    });
    const failed = await app
      .revoker()
      .revoke({ keyId: 'payments-billing', actor: 'test:suite' })
      .catch((error: unknown) => error);
    await app.close();
    expect(failed).toMatchObject({ code: 'E_REVOKE_INCOMPLETE', details: { done: [] } });
    expect((failed as Error).message).toMatch(/NOT done: revoke internal key ik_\w+; delete the secret/);

    const resumed = await runCli(['revoke', '--resume', '--json'], { cwd: registry, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    const { finished, failed: stillFailing } = JSON.parse(resumed.stdout);
    expect(stillFailing).toEqual([]);
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ keyId: 'payments-billing', resumed: true });
    expect(finished[0].steps).toHaveLength(3);
    const events = await runCli(['events', '--type', 'revoked', '--json'], { cwd: registry, env });
    expect(JSON.parse(events.stdout).events[0]).toMatchObject({ actor: 'test:suite', data: { resumed: true } });
  });
});

it('a data folder with state but no fingerprint key is an error, not a new key', async () => {
  const registry = await makeRegistry({ 'keyledger.config.yaml': '' }, { git: true });
  const env: NodeJS.ProcessEnv = {
    ...GIT_TEST_ENV,
    KEYLEDGER_DATA_DIR: '',
    KEYLEDGER_DATABASE_URL: '',
    KEYLEDGER_MASTER_KEY: '',
    KEYLEDGER_FINGERPRINT_KEY: '',
  };
  expect((await runCli(ISSUE, { cwd: registry, env })).code).toBe(0);
  const keyFile = join(registry, '.keyledger', 'fingerprint.key');
  const key = await readFile(keyFile, 'utf8');
  await rm(keyFile);
  const run = await runCli([...ISSUE.slice(0, -1), 'payments-other'], { cwd: registry, env });
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('E_FINGERPRINT_KEY');
  expect(run.stderr).toContain("holds this registry's state but no fingerprint.key");
  expect(existsSync(keyFile)).toBe(false);
  await writeFile(keyFile, key);
  expect((await runCli([...ISSUE.slice(0, -1), 'payments-other'], { cwd: registry, env })).code).toBe(0);
});

it('the data folder follows KEYLEDGER_DATA_DIR when set, and providers.json in it configures providers', async () => {
  const registry = await makeRegistry({ '.gitignore': '.keyledger/\n', 'keyledger.config.yaml': '' }, { git: true });
  const dataDir = await mkdtemp(join(tmpdir(), 'keyledger-data-'));
  await writeFile(join(dataDir, 'providers.json'), JSON.stringify({ datadog: { baseUrl: 'http://127.0.0.1:1' } }));
  const env: NodeJS.ProcessEnv = {
    KEYLEDGER_DATA_DIR: dataDir,
    KEYLEDGER_DATABASE_URL: '',
    KEYLEDGER_PROVIDERS_FILE: '',
    KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
  };
  const app = await openKeyledgerApp({
    registryDir: registry,
    env,
    cwd: '/',
    clock: fixedClock('2026-11-23T12:00:00Z'),
  });
  try {
    expect(app.dataDir).toBe(dataDir);
    expect(existsSync(join(dataDir, 'keyledger.db'))).toBe(true);
    expect(existsSync(join(registry, '.keyledger'))).toBe(false);
    // Configured from providers.json (an unconfigured provider throws E_PROVIDER_CONFIG instead).
    expect(app.provider('datadog').name).toBe('datadog');
    expect(() => app.provider('sendgrid')).toThrow(/provider "sendgrid" is not configured/);
  } finally {
    await app.close();
  }
});
