// `keyledger people list|show` and `keyledger idp token create`, in-process against a registry with a people file
// and a real store on both engines: the directory laid over the file, filters, a person's signal history, the
// token printed once and kept only as a hash.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openKeyledgerApp } from '../../app/keyledger-app.js';
import { createTestBackend, forEachBackend, type TestDatabase } from '../../db/test-support/test-databases.js';
import { DirectoryStore } from '../../directory/directory-store.js';
import { verifyIdpCredential } from '../../directory/idp-credentials.js';
import { GIT_TEST_ENV, makeRegistry, SEED_EXAMPLE } from '../../registry/test-support/registry-fixtures.js';
import { fixedClock } from '../../runtime/clock.js';
import { runCli } from '../test-support/run-cli.js';

const PEOPLE = `email,name,team,status,left_at
ada@example.com,Ada,platform,active,
bob@example.com,Bob,payments,left,2026-10-01
cyd@example.com,Cyd,payments,active,
`;

async function setUp(database: TestDatabase) {
  const registry = await makeRegistry(
    {
      '.gitignore': '.keyledger/\n',
      'keys/.gitkeep': '',
      'keyledger.config.yaml': 'policy:\n  people_directory: people.csv\n',
      'people.csv': PEOPLE,
    },
    { git: true },
  );
  const env = {
    ...GIT_TEST_ENV,
    KEYLEDGER_DATA_DIR: database.options.dataDir,
    KEYLEDGER_DATABASE_URL: database.options.databaseUrl ?? '',
    KEYLEDGER_REGISTRY: registry,
  };
  const cli = (...args: string[]) => runCli(args, { cwd: registry, env, now: '2026-12-07T12:00:00.000Z' });
  return { registry, env, cli };
}

// The embedded store is a file that a read-only command must not create (PostgreSQL's database exists already).
describe('sqlite', () => {
  const backend = createTestBackend('sqlite');
  afterAll(() => backend.cleanup());
  it('lists the people file alone before anything was recorded, creating no store', async () => {
    const database = await backend.createDatabase();
    const { cli } = await setUp(database);
    const listed = await cli('people', 'list', '--json');
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).people.map((p: { email: string }) => p.email)).toEqual([
      'ada@example.com',
      'bob@example.com',
      'cyd@example.com',
    ]);
    expect(existsSync(join(database.options.dataDir, 'keyledger.db'))).toBe(false);
  });
});

forEachBackend((backend) => {
  it('lists the directory over the people file, filters by status and team, and shows a person with signals', async () => {
    const database = await backend.createDatabase();
    const { cli } = await setUp(database);
    const store = await database.open();
    const directory = new DirectoryStore({ db: store.db, clock: fixedClock('2026-12-07T10:00:00.000Z') });
    await directory.apply(
      {
        signalId: 'okta:e1',
        source: 'okta',
        email: 'cyd@example.com',
        status: 'deprovisioned',
        at: '2026-12-07T08:00:00Z',
      },
      { team: 'payments', displayName: 'Cyd' },
    );
    await directory.apply({
      signalId: 'okta:e0',
      source: 'okta',
      email: 'cyd@example.com',
      status: 'active',
      at: '2026-12-06T08:00:00Z',
    });
    await store.close();

    const all = await cli('people', 'list', '--json');
    expect(all.code).toBe(0);
    const people = JSON.parse(all.stdout).people as Array<{ email: string; status: string; source: string }>;
    expect(people.map((p) => [p.email, p.status, p.source])).toEqual([
      ['cyd@example.com', 'deprovisioned', 'okta'],
      ['ada@example.com', 'active', 'hr-file'],
      ['bob@example.com', 'deprovisioned', 'hr-file'],
    ]);
    const gone = await cli('people', 'list', '--status', 'deprovisioned', '--team', 'payments', '--json');
    expect(JSON.parse(gone.stdout)).toMatchObject({ count: 2 });
    const table = await cli('people', 'list', '--status', 'active');
    expect(table.stdout).toMatch(/^EMAIL\s+NAME\s+TEAM\s+STATUS\s+SINCE\s+SOURCE/);
    expect(table.stdout).toContain('ada@example.com');
    expect(table.stdout).toContain('1 person');
    const badStatus = await cli('people', 'list', '--status', 'left');
    expect(badStatus.code).toBe(2);

    const shown = await cli('people', 'show', 'CYD@example.com', '--json');
    expect(shown.code).toBe(0);
    const body = JSON.parse(shown.stdout);
    expect(body.person).toMatchObject({ email: 'cyd@example.com', status: 'deprovisioned', team: 'payments' });
    expect(body.signals.map((s: { signalId: string; effect: string }) => [s.signalId, s.effect])).toEqual([
      ['okta:e0', 'stale'],
      ['okta:e1', 'applied'],
    ]);
    const text = await cli('people', 'show', 'cyd@example.com');
    expect(text.stdout).toContain('status:   deprovisioned since 2026-12-07T08:00:00.000Z (okta)');
    const fromFile = await cli('people', 'show', 'bob@example.com', '--json');
    expect(JSON.parse(fromFile.stdout).person).toMatchObject({ status: 'deprovisioned', source: 'hr-file' });
    const missing = await cli('people', 'show', 'nobody@example.com', '--json');
    expect(missing.code).not.toBe(0);
    expect(JSON.parse(missing.stdout).error.code).toBe('E_PERSON_NOT_FOUND');
  });

  it('idp token create prints the token once, keeps its hash, and logs an event without it', async () => {
    const database = await backend.createDatabase();
    const { cli, registry, env } = await setUp(database);
    const created = await cli('idp', 'token', 'create', '--source', 'scim', '--json');
    expect(created.code).toBe(0);
    const { token, source } = JSON.parse(created.stdout);
    expect(source).toBe('scim');
    expect(token).toMatch(/^kl_idp_[A-Za-z0-9_-]{43}$/);
    const app = await openKeyledgerApp({
      registryDir: registry,
      env: { ...process.env, ...env },
      cwd: registry,
      clock: fixedClock('2026-12-07T12:00:00.000Z'),
    });
    try {
      expect(await verifyIdpCredential(app.operational.db, 'scim', token)).toBe(true);
      expect(await verifyIdpCredential(app.operational.db, 'okta-event-hook', token)).toBe(false);
      const events = await app.operational.db.selectFrom('events').selectAll().execute();
      expect(events.map((event) => event.type)).toContain('idp-token-created');
      const everything = JSON.stringify([
        events,
        await app.operational.db.selectFrom('idp_credentials').selectAll().execute(),
      ]);
      expect(everything).not.toContain(token);
    } finally {
      await app.close();
    }
    const text = await cli('idp', 'token', 'create', '--source', 'okta-event-hook');
    expect(text.stdout).toMatch(/^kl_idp_\S+\n\nThis is the event hook's Authorization header value in Okta/);
    const unknown = await cli('idp', 'token', 'create', '--source', 'ldap');
    expect(unknown.code).toBe(2);
  });

  it('an owner a source deprovisioned makes their keys due as owner-left, while the people file still says active', async () => {
    const database = await backend.createDatabase();
    const registry = await makeRegistry(
      {
        '.gitignore': '.keyledger/\n',
        'keyledger.config.yaml': 'policy:\n  people_directory: people.csv\n',
        'people.csv': 'email,name,team,status,left_at\nalice@example.com,Alice,payments,active,\n',
        'keys/payments-stripe-live.yaml': SEED_EXAMPLE,
      },
      { git: true },
    );
    const env = {
      ...GIT_TEST_ENV,
      KEYLEDGER_DATA_DIR: database.options.dataDir,
      KEYLEDGER_DATABASE_URL: database.options.databaseUrl ?? '',
      KEYLEDGER_REGISTRY: registry,
    };
    const due = async () => {
      const run = await runCli(['rotate', '--due', '--dry-run', '--json'], {
        cwd: registry,
        env,
        now: '2026-12-07T12:00:00.000Z',
      });
      return run.stdout;
    };
    expect(await due()).not.toContain('owner-left');
    const store = await database.open();
    await new DirectoryStore({ db: store.db, clock: fixedClock('2026-12-07T10:00:00.000Z') }).apply({
      signalId: 'okta:alice',
      source: 'okta',
      email: 'alice@example.com',
      status: 'deprovisioned',
      at: '2026-12-07T09:00:00Z',
    });
    await store.close();
    expect(await due()).toContain('owner-left');
  });
});
