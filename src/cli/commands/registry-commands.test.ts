import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runGit } from '../../git/git-command.js';
import {
  GIT_TEST_ENV,
  makeRegistry,
  SEED_EXAMPLE,
  seedExampleWith,
} from '../../registry/test-support/registry-fixtures.js';
import { runCli } from '../test-support/run-cli.js';

describe('keyledger validate', () => {
  it('exits 0 on a clean registry and says the storage check was skipped', async () => {
    const root = await makeRegistry({ 'keys/a.yaml': SEED_EXAMPLE });
    const run = await runCli(['validate'], { cwd: root });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/✔ 0 errors, 0 warnings in 1 files/);
    expect(run.stdout).toMatch(/storage check skipped: no secret store is configured/);
  });

  it('exits 1 on violations, grouped by file with positions', async () => {
    const root = await makeRegistry({
      'keys/a.yaml': seedExampleWith('a', [['owner_team: payments\n', '']]),
      'keys/b.yaml': seedExampleWith('b', [['expiration: 2027-04-01T10:00:00Z', 'expiration: 2027-06-01T10:00:00Z']]),
    });
    const run = await runCli(['validate', root], { cwd: '/' });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'keys/a.yaml\n  2:1  error    owner-required  no owning team (`owner_team`)  [owner_team]',
    );
    expect(run.stdout).toContain(
      'keys/b.yaml\n  7:1  error    max-lifetime  lifetime 426 days exceeds the maximum of 365 days  [expiration]',
    );
    expect(run.stdout).toMatch(/✖ 2 errors, 0 warnings in 2 files/);
  });

  it('warnings pass unless --strict', async () => {
    const root = await makeRegistry({ 'keys/a.yaml': `${SEED_EXAMPLE}cost_center: 7\n` });
    expect((await runCli(['validate'], { cwd: root })).code).toBe(0);
    expect((await runCli(['validate', '--strict'], { cwd: root })).code).toBe(1);
  });

  it('prints a JSON report', async () => {
    const root = await makeRegistry({ 'keys/a.yaml': seedExampleWith('a', [['owner_team: payments\n', '']]) });
    const run = await runCli(['validate', '--json'], { cwd: root });
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      ok: false,
      errors: 1,
      warnings: 0,
      filesTotal: 1,
      entries: 1,
      storage: { status: 'skipped' },
    });
    expect(report.issues[0]).toEqual({
      severity: 'error',
      rule: 'owner-required',
      message: 'no owning team (`owner_team`)',
      file: 'keys/a.yaml',
      line: 2,
      column: 1,
      field: 'owner_team',
      keyId: 'a',
    });
  });

  it('exits 2 with the file, line and field of a bad config', async () => {
    const root = await makeRegistry({
      'keyledger.config.yaml': 'policy:\n  max_lifetime_days: forever\n',
      'keys/a.yaml': SEED_EXAMPLE,
    });
    const run = await runCli(['validate'], { cwd: root });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/keyledger\.config\.yaml:2:3: policy\.max_lifetime_days: /);
  });

  it('exits 2 on an unknown config field and on a missing people directory', async () => {
    const typo = await makeRegistry({ 'keyledger.config.yaml': 'policy:\n  max_lifetime: 90\n' });
    expect((await runCli(['validate'], { cwd: typo })).stderr).toMatch(/2:3: policy\.max_lifetime: /);
    const missing = await makeRegistry({ 'keyledger.config.yaml': 'policy:\n  people_directory: hr.csv\n' });
    const run = await runCli(['validate'], { cwd: missing });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/E_PEOPLE_DIRECTORY: cannot read the people directory .*hr\.csv/);
  });

  it('applies the config: per-provider lifetime, naming pattern, people directory', async () => {
    const root = await makeRegistry({
      'keyledger.config.yaml':
        'policy:\n  max_lifetime_days_by_provider: { stripe: 180 }\n  key_id_pattern: "^[a-z]+-[0-9]+$"\n  people_directory: people.csv\n',
      'people.csv': 'email,name,team,status,left_at\nalice@example.com,Alice,payments,left,2026-10-01\n',
      'keys/a.yaml': SEED_EXAMPLE,
    });
    const run = await runCli(['validate', '--json'], { cwd: root });
    expect(
      JSON.parse(run.stdout)
        .issues.map((issue: { rule: string }) => issue.rule)
        .sort(),
    ).toEqual(['key-id-pattern', 'max-lifetime', 'owner-in-directory']);
  });

  it('--changed-since checks only the files changed since a revision', async () => {
    const root = await makeRegistry(
      { 'keys/old-bad.yaml': seedExampleWith('old', [['owner_team: payments\n', '']]) },
      { git: true },
    );
    const base = (await runGit(['rev-parse', 'HEAD'], { cwd: root })).trim();
    await writeFile(
      join(root, 'keys/new.yaml'),
      seedExampleWith('new', [['owner_individual: alice@example.com\n', '']]),
    );
    await writeFile(join(root, 'keys/clean.yaml'), seedExampleWith('clean'));
    await runGit(['add', 'keys/clean.yaml'], { cwd: root });
    await runGit(['commit', '-qm', 'clean'], { cwd: root, env: GIT_TEST_ENV });
    const run = await runCli(['validate', '--changed-since', base, '--json'], { cwd: root });
    const report = JSON.parse(run.stdout);
    expect(report.filesChecked).toBe(2);
    expect(report.issues.map((issue: { file: string }) => issue.file)).toEqual(['keys/new.yaml']);
    expect((await runCli(['validate', '--changed-since', 'no-such-rev'], { cwd: root })).stderr).toMatch(
      /unknown git revision "no-such-rev"/,
    );
  });
});

describe('keyledger list and show', () => {
  async function registry() {
    return makeRegistry({
      'keys/a.yaml': SEED_EXAMPLE,
      'keys/b.yaml': seedExampleWith('search-openai', [
        ['owner_team: payments', 'owner_team: search'],
        ['owner_individual: alice@example.com', 'owner_individual: sam@example.com'],
        ['provider: stripe', 'provider: openai'],
        ['expiration: 2027-04-01T10:00:00Z', 'expiration: 2026-12-10T10:00:00Z'],
        ['rotation_frequency_days: 365', 'rotation_frequency_days: 90'],
      ]),
      'keys/c.yaml':
        seedExampleWith('old-revoked', [['owner_team: payments', 'owner_team: search']]) + 'status: revoked\n',
    });
  }

  it('lists everything as a table', async () => {
    const run = await runCli(['list'], { cwd: await registry() });
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toMatch(/^KEY_ID\s+PROVIDER\s+TEAM\s+OWNER\s+STATUS\s+EXPIRES\s+ROTATION DUE$/);
    expect(run.stdout).toMatch(/3 of 3 entries/);
  });

  it.each([
    [
      ['--team', 'search'],
      ['old-revoked', 'search-openai'],
    ],
    [['--owner', 'SAM@example.com'], ['search-openai']],
    [
      ['--provider', 'stripe'],
      ['old-revoked', 'payments-stripe-live-001'],
    ],
    [['--status', 'revoked'], ['old-revoked']],
    [['--expiring', '30d'], ['search-openai']],
    [['--rotation-overdue'], ['search-openai']],
    [['--team', 'search', '--status', 'active'], ['search-openai']],
  ])('filters %j', async (args, expected) => {
    const run = await runCli(['list', ...args, '--json'], { cwd: await registry() });
    expect(JSON.parse(run.stdout).entries.map((entry: { key_id: string }) => entry.key_id)).toEqual(expected);
  });

  it('rejects a bad filter value with exit 2', async () => {
    expect((await runCli(['list', '--status', 'paused'], { cwd: await registry() })).code).toBe(2);
    expect((await runCli(['list', '--expiring', 'soon'], { cwd: await registry() })).code).toBe(2);
  });

  it('shows one entry, and says when it does not exist', async () => {
    const root = await registry();
    const run = await runCli(['show', 'payments-stripe-live-001'], { cwd: root });
    expect(run.stdout).toMatch(/^key_id\s+payments-stripe-live-001$/m);
    expect(run.stdout).toMatch(/^storage\s+vault:secret\/payments\/stripe-live$/m);
    const json = JSON.parse((await runCli(['show', 'payments-stripe-live-001', '--json'], { cwd: root })).stdout);
    expect(json).toMatchObject({
      file: 'keys/a.yaml',
      key_id: 'payments-stripe-live-001',
      facts: { expires_in_days: 128 },
    });
    const missing = await runCli(['show', 'nope'], { cwd: root });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no registry entry with key_id "nope"/);
  });
});

describe('keyledger init', () => {
  it('scaffolds a registry that validates, in a new git repository, and refuses to overwrite', async () => {
    const parent = await makeRegistry({});
    const init = await runCli(['init', 'my-registry'], { cwd: parent, env: GIT_TEST_ENV });
    expect(init.code).toBe(0);
    const root = join(parent, 'my-registry');
    expect(init.stdout).toMatch(/created keyledger\.config\.yaml/);
    expect(init.stdout).toMatch(/created \.pre-commit-config\.yaml/);
    expect(init.stdout).toMatch(/created \.github\/workflows\/keyledger\.yaml/);
    expect((await runGit(['log', '--format=%s'], { cwd: root })).trim()).toBe('keyledger: init registry');
    const validate = await runCli(['validate', '--strict'], { cwd: root });
    expect(validate.code).toBe(0);
    const again = await runCli(['init', 'my-registry'], { cwd: parent });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/refusing to overwrite/);
  });
});

describe('keyledger start', () => {
  it('starts the sandbox organisation on the embedded default, validates its registry and says what runs where', async () => {
    const cwd = await makeRegistry({});
    const run = await runCli(['start', '--once', '--org', 'small', '--server-port', '0', '--json'], {
      cwd,
      env: { KEYLEDGER_MASTER_KEY: '', KEYLEDGER_DATABASE_URL: '', KEYLEDGER_DATA_DIR: '' },
    });
    expect(run.code, run.stderr).toBe(0);
    const where = JSON.parse(run.stdout);
    expect(where.registry).toBe(join(cwd, '.keyledger', 'sandbox', 'registry'));
    expect(Object.keys(where.sandbox)).toEqual(expect.arrayContaining(['aws-iam', 'github', 'gitlab']));
    // Local state belongs to the organisation's registry: its data folder, not the working directory's.
    expect(where.dataDir).toBe(join(where.registry, '.keyledger'));
    expect(where.operationalStore).toBe(join(where.registry, '.keyledger', 'keyledger.db'));
    expect(where.export).toMatchObject({ KEYLEDGER_REGISTRY: where.registry, KEYLEDGER_DATA_DIR: where.dataDir });
    expect(where.organisation.keys).toBeGreaterThan(0);
    expect(where.validation.errors).toBeGreaterThan(0);
    // The registry is a git repository the other commands can write to, and its entries list.
    expect((await runGit(['log', '--format=%s'], { cwd: where.registry })).trim().split('\n')).toEqual([
      `keyledger: create ${where.server.adminToken.keyId}`,
      'keyledger: the sandbox organisation',
    ]);
    const list = await runCli(['list', '--registry', where.registry, '--json'], { cwd });
    expect(JSON.parse(list.stdout).total).toBe(where.organisation.keys - where.organisation.unregistered + 1);
    // The server ran with a first admin credential: an API token (a registry key of its own, the +1 above) in a
    // 0600 file, and the local admin's scrypt hash.
    expect(where.server).toMatchObject({
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      adminToken: { token: expect.stringMatching(/^kl_live_/), file: join(where.dataDir, 'admin-token') },
      localAdmin: { email: 'admin@keyledger.local', file: join(where.dataDir, 'local-admin.json') },
    });
    expect((await stat(where.server.adminToken.file)).mode & 0o777).toBe(0o600);
    expect((await readFile(where.server.adminToken.file, 'utf8')).trim()).toBe(where.server.adminToken.token);
  });
});
