// The canary test of "secrets are radioactive": issue real keys through the CLI with verbose logging, run every
// registry and lifecycle command, fail an issuance on purpose, then look for each secret — raw, base64 and hex —
// in every output, the logs, the error messages, the registry files and their git history, the event log and the
// whole operational store. Zero hits is the only pass.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openOperationalStore } from '../../db/operational-store.js';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { runGit } from '../../git/git-command.js';
import { GIT_TEST_ENV, makeRegistry } from '../../registry/test-support/registry-fixtures.js';
import { createSecretStore } from '../../secrets/secret-store-table.js';
import { runCli } from '../test-support/run-cli.js';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

forEachBackend((backend) => {
  it('no secret reaches an output, a log, an error, the registry, its history, the events or the database', async () => {
    const database = await backend.createDatabase();
    const registry = await makeRegistry({ '.gitignore': '.keyledger/\n', 'keyledger.config.yaml': '' }, { git: true });
    const env: NodeJS.ProcessEnv = {
      ...GIT_TEST_ENV,
      KEYLEDGER_DATA_DIR: join(registry, '.keyledger'),
      KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
      ...(database.options.databaseUrl ? { KEYLEDGER_DATABASE_URL: database.options.databaseUrl } : {}),
    };
    const outputs: string[] = [];
    const cli = async (...args: string[]) => {
      const run = await runCli(['-v', ...args], { cwd: registry, env });
      outputs.push(run.stdout, run.stderr);
      return run;
    };
    const issued: string[] = [];
    for (const [team, purpose] of [
      ['payments', 'Card webhook signing'],
      ['search', 'Index writer'],
      ['platform', 'Deploy bot'],
    ] as const) {
      const run = await cli(
        'issue',
        '--provider',
        'internal',
        '--team',
        team,
        '--owner',
        `${team}@example.com`,
        '--purpose',
        purpose,
        '--scope',
        'a:read,b:write',
        '--json',
      );
      expect(run.code, run.stderr).toBe(0);
      issued.push(JSON.parse(run.stdout).keyId);
    }
    // Read the secrets the way a consumer would, to know what to look for.
    const operational = await openOperationalStore(
      database.options.databaseUrl ? database.options : { dataDir: join(registry, '.keyledger') },
    );
    const store = createSecretStore('embedded', {}, { env, cwd: registry, operationalDb: operational.db });
    const secrets: string[] = [];
    for (const keyId of issued) {
      const team = keyId.split('-')[0];
      secrets.push((await store.get(`${team}/${keyId}`))!.value.reveal());
    }
    await operational.close();
    expect(secrets).toHaveLength(3);

    // A failed issuance (git refuses to commit) produces an error message and a rollback.
    const gitDir = (await runGit(['rev-parse', '--absolute-git-dir'], { cwd: registry })).trim();
    await writeFile(join(gitDir, 'index.lock'), '');
    const failed = await cli(
      'issue',
      '--provider',
      'internal',
      '--team',
      'payments',
      '--owner',
      'p@example.com',
      '--purpose',
      'Will fail',
    );
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/E_ISSUE_FAILED/);
    await runGit(['rev-parse', 'HEAD'], { cwd: registry });
    await (await import('node:fs/promises')).unlink(join(gitDir, 'index.lock'));

    for (const args of [
      ['list'],
      ['list', '--json'],
      ['show', issued[0]!],
      ['show', issued[0]!, '--json'],
      ['validate'],
      ['validate', '--json'],
      ['events'],
      ['events', '--json'],
      ['events', 'verify', '--json'],
      ['offboard', 'payments@example.com', '--dry-run', '--json'],
      ['offboard', 'payments@example.com', '--json'],
      ['offboard', '--status', 'payments@example.com'],
      ['offboard', '--orphans', '--json'],
      ['revoke', issued[1]!],
      ['revoke', issued[2]!, '--keep-secret', '--json'],
      ['scan', 'dir', '.', '--registry', '.'],
    ]) {
      await cli(...args);
    }

    const haystacks: [string, string][] = outputs.map((text, index) => [`command output ${index}`, text]);
    for (const file of await filesUnder(registry)) {
      if (file.includes(`${join(registry, '.git')}`) || file.includes('.keyledger')) continue;
      haystacks.push([file, await readFile(file, 'utf8')]);
    }
    haystacks.push(['git history', await runGit(['log', '-p', '--all', '--format=%H %s%n%b'], { cwd: registry })]);
    const check = await openOperationalStore(
      database.options.databaseUrl ? database.options : { dataDir: join(registry, '.keyledger') },
    );
    for (const table of [
      'events',
      'idempotency_records',
      'internal_keys',
      'embedded_secret_versions',
      'embedded_secrets',
    ]) {
      const rows = await check.db
        .selectFrom(table as 'events')
        .selectAll()
        .execute()
        .catch(() => []);
      haystacks.push([`table ${table}`, JSON.stringify(rows)]);
    }
    await check.close();
    if (!database.options.databaseUrl) {
      for (const file of await filesUnder(join(registry, '.keyledger'))) {
        haystacks.push([file, (await readFile(file)).toString('latin1')]);
      }
    }
    const forms = secrets.flatMap((secret) => [
      secret,
      Buffer.from(secret).toString('base64'),
      Buffer.from(secret).toString('hex'),
    ]);
    const hits = haystacks.flatMap(([where, text]) => forms.filter((form) => text.includes(form)).map(() => where));
    expect(hits).toEqual([]);
    // And the logs were really on: the search covered them.
    expect(outputs.join('')).toMatch(/"msg":"issued"/);
  }, 120_000);
});
