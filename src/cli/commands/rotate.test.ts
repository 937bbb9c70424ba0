// `keyledger rotate` and `keyledger controller --once` in-process on a real registry: one key, the due keys (and
// --dry-run), --resume, --status, a manual provider's ticket, the preflight's refusal, usage errors and exit codes.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openOperationalStore } from '../../db/operational-store.js';
import { runGit } from '../../git/git-command.js';
import { RotationJournal } from '../../lifecycle/rotation/rotation-journal.js';
import { InternalProvider } from '../../providers/internal/internal-provider.js';
import { GIT_TEST_ENV, makeRegistry, seedExampleWith } from '../../registry/test-support/registry-fixtures.js';
import { systemClock } from '../../runtime/clock.js';
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

  it('an entry whose store is not configured (the `npm start` symptom): refused before minting, nothing to resume', async () => {
    const { registry, cli, keys } = await setUp();
    const found = await runGit(['grep', '-l', `key_id: ${keys[0]}`], { cwd: registry, env: GIT_TEST_ENV });
    const file = join(registry, found.trim());
    const text = await readFile(file, 'utf8');
    const edited = text.replace(/^storage:\n {2}store: default\n {2}path: (\S+)$/m, 'storage:\n  vault_path: $1');
    expect(edited).not.toBe(text);
    await writeFile(file, edited);
    await runGit(['commit', '-qam', 'the key lives in vault'], { cwd: registry, env: GIT_TEST_ENV });
    const run = await cli(['rotate', keys[0]!, '--grace', '0s']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('E_PREFLIGHT_FAILED');
    expect(run.stderr).toContain('`stores.vault` in keyledger.config.yaml');
    const status = await cli(['rotate', '--status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual({ pending: [] });
    expect((await cli(['rotate', '--resume'])).stdout).toContain('Nothing to resume');
    const store = await openOperationalStore({ dataDir: join(registry, '.keyledger') });
    try {
      const provider = new InternalProvider({ db: store.db, verificationKey: randomBytes(32), clock: systemClock });
      const live = [];
      for await (const key of provider.list()) if (key.status === 'active') live.push(key.providerKeyId);
      expect(live).toHaveLength(keys.length); // one per issued key: nothing was minted
    } finally {
      await store.close();
    }
  });

  it('--status lists a stuck rollback with the live key it holds (exit 1); --resume revokes it and clears the list', async () => {
    const { registry, cli, keys } = await setUp();
    const store = await openOperationalStore({ dataDir: join(registry, '.keyledger') });
    let minted: string;
    try {
      // A rollback that failed its attempts, as a store or provider outage leaves it: `rolling-back`, a live new key.
      const provider = new InternalProvider({ db: store.db, verificationKey: randomBytes(32), clock: systemClock });
      const journal = new RotationJournal(store.db, systemClock);
      const { row } = await journal.plan({
        keyId: keys[0]!,
        provider: 'internal',
        trigger: 'manual',
        store: 'default',
        path: 'x/y',
      });
      minted = (await provider.create({ name: row.new_key_name })).providerKeyId;
      await store.db
        .updateTable('rotation_journal')
        .set({
          state: 'rolling-back',
          new_provider_key_id: minted,
          attempts: 8,
          not_before: '2099-01-01T00:00:00.000Z',
          failure: 'rollback_incomplete: store vault: unreachable',
        })
        .where('rotation_id', '=', row.rotation_id)
        .execute();
    } finally {
      await store.close();
    }
    const status = await cli(['rotate', '--status', '--json']);
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout).pending).toEqual([
      expect.objectContaining({ keyId: keys[0], state: 'rolling-back', stuck: true, liveProviderKeyIds: [minted] }),
    ]);
    const text = await cli(['rotate', '--status']);
    expect(text.stdout).toContain('1 unfinished rotation(s), 1 stuck');
    expect(text.stdout).toContain(`live: ${minted}`);
    const resumed = await cli(['rotate', '--resume', '--json']);
    expect(JSON.parse(resumed.stdout).resumed).toEqual([expect.objectContaining({ status: 'rolled-back' })]);
    const after = await cli(['rotate', '--status', '--json']);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toEqual({ pending: [] });
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
