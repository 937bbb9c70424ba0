// `keyledger rotate` and `keyledger controller --once` in-process on a real registry: one key, the due keys (and
// --dry-run), --resume, a manual provider's ticket, usage errors and exit codes.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runGit } from '../../git/git-command.js';
import { GIT_TEST_ENV, makeRegistry, seedExampleWith } from '../../registry/test-support/registry-fixtures.js';
import { runCli } from '../test-support/run-cli.js';

async function setUp() {
  const registry = await makeRegistry(
    { '.gitignore': '.keyledger/\ntickets/\n', 'keyledger.config.yaml': 'providers:\n  stripe:\n    manual: true\n' },
    { git: true },
  );
  const env: NodeJS.ProcessEnv = {
    ...GIT_TEST_ENV,
    KEYLEDGER_DATA_DIR: join(registry, '.keyledger'),
    KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
    KEYLEDGER_DATABASE_URL: '',
    KEYLEDGER_TICKETS: '',
  };
  const cli = (args: string[], now = '2026-11-23T12:00:00Z') => runCli(args, { cwd: registry, env, now });
  const keys: string[] = [];
  for (const team of ['payments', 'search']) {
    const run = await cli([
      'issue',
      '--provider',
      'internal',
      '--team',
      team,
      '--owner',
      `${team}@example.com`,
      '--purpose',
      'orders API',
      '--scope',
      'orders:read',
      '--rotate-every',
      '30',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    keys.push(JSON.parse(run.stdout).keyId);
  }
  // A Stripe secret key: no issuance API, so its rotation is a ticket.
  await writeFile(join(registry, 'keys/payments-stripe-live-001.yaml'), seedExampleWith('payments-stripe-live-001'));
  await runGit(['add', '-A'], { cwd: registry, env: GIT_TEST_ENV });
  await runGit(['commit', '-qm', 'stripe key'], { cwd: registry, env: GIT_TEST_ENV });
  return { registry, cli, keys };
}

describe('keyledger rotate', () => {
  it('rotates one key by id, prints what it did, and exits 0', async () => {
    const { cli, keys } = await setUp();
    const run = await cli(['rotate', keys[0]!, '--grace', '0s', '--json'], '2026-11-24T12:00:00Z');
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({
      keyId: keys[0],
      status: 'done',
      state: 'done',
      trigger: 'manual',
      provider: 'internal',
    });
    expect(result.newProviderKeyId).not.toBe(result.oldProviderKeyId);
    const listed = await cli(['events', '--key', keys[0]!, '--json']);
    expect(listed.stdout).toContain('"rotated"');
  });

  it('--due --dry-run lists due keys without changing anything; --due rotates them and opens one ticket for the manual provider', async () => {
    const { registry, cli } = await setUp();
    const later = '2027-03-15T12:00:00Z'; // 30-day keys are due, and the Stripe key expires within 30 days
    const dry = await cli(['rotate', '--due', '--dry-run', '--json'], later);
    expect(dry.code, dry.stderr).toBe(0);
    const due = JSON.parse(dry.stdout).due as Array<{ keyId: string; trigger: string }>;
    expect(due.map((key) => key.keyId).sort()).toHaveLength(3);
    const headBefore = await runGit(['rev-parse', 'HEAD'], { cwd: registry, env: GIT_TEST_ENV });
    expect(await runGit(['rev-parse', 'HEAD'], { cwd: registry, env: GIT_TEST_ENV })).toBe(headBefore);

    const run = await cli(
      ['rotate', '--due', '--grace', '0s', '--tickets', `markdown:${join(registry, 'tickets')}`, '--json'],
      later,
    );
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.report).toMatchObject({ done: 2, rolledBack: 0, failed: 0, tickets: { opened: 1, existing: 0 } });
    const again = await cli(
      ['rotate', '--due', '--grace', '0s', '--tickets', `markdown:${join(registry, 'tickets')}`, '--json'],
      later,
    );
    expect(JSON.parse(again.stdout).report.tickets).toMatchObject({ opened: 0, existing: 1 });
    const files = await readdir(join(registry, 'tickets'));
    expect(files).toHaveLength(1);
    expect(await readFile(join(registry, 'tickets', files[0]!), 'utf8')).toContain(
      'Rotate payments-stripe-live-001 (due 2027-03-02)',
    );
  });

  it('--resume with an empty journal says so and exits 0', async () => {
    const { cli } = await setUp();
    const run = await cli(['rotate', '--resume']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Nothing to resume');
  });

  it('usage errors exit 2 with a clear message', async () => {
    const { cli, keys } = await setUp();
    expect((await cli(['rotate'])).stderr).toContain('give exactly one of');
    expect((await cli(['rotate', keys[0]!, '--due'])).code).toBe(2);
    expect((await cli(['rotate', '--dry-run', keys[0]!])).stderr).toContain('--dry-run goes with --due');
    expect((await cli(['rotate', 'no-such-key'])).stderr).toContain('E_KEY_NOT_FOUND');
    expect((await cli(['controller', '--schedule', 'every tuesday', '--once'])).stderr).toContain(
      'not a cron expression',
    );
  });

  it('controller --once resumes, rotates what is due and reports one JSON line', async () => {
    const { cli } = await setUp();
    const run = await cli(['controller', '--once', '--json', '--tickets', 'markdown:tickets'], '2027-03-15T12:00:00Z');
    expect(run.code, run.stderr).toBe(0);
    const line = JSON.parse(run.stdout.trim().split('\n')[0]!);
    expect(line).toMatchObject({ due: 3, done: 2, rolledBack: 0, failed: 0, ticketsOpened: 1, errors: [] });
  }, 60_000);
});
