// `keyledger issue --from FILE` as a user runs it, on both database engines: a YAML file and CSV on stdin issued
// with --json and verbose logs (no secret in any output, the registry or its history), a bad file refused with
// file:line: field before anything is minted, a dry run, and flags that do not go together.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { expect, it } from 'vitest';
import { openOperationalStore } from '../../db/operational-store.js';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { runGit } from '../../git/git-command.js';
import { GIT_TEST_ENV, makeRegistry } from '../../registry/test-support/registry-fixtures.js';
import { createSecretStore } from '../../secrets/secret-store-table.js';
import { runCli } from '../test-support/run-cli.js';

const YAML_REQUESTS = `- provider: internal
  team: payments
  owner: alice@example.com
  purpose: Card webhook signing
  scope: [webhooks:write]
  key-id: payments-webhooks-001
- provider: internal
  team: search
  owner: bob@example.com
  purpose: Index writer
  scope: index:write, index:read
  expires: 30d
  key-id: search-index-001
`;

const CSV_REQUESTS = `provider,team,owner,purpose,scope,key_id
internal,platform,carol@example.com,Deploy bot,deploy:run,platform-deploy-001
internal,data,dan@example.com,"Warehouse loader, nightly",warehouse:write,data-loader-001
`;

async function entryFiles(root: string): Promise<string[]> {
  const entries = await readdir(join(root, 'keys'), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}

forEachBackend((backend) => {
  it('issues a YAML file and CSV from stdin, with --json and verbose logs; no secret in any output', async () => {
    const database = await backend.createDatabase();
    const registry = await makeRegistry(
      { '.gitignore': '.keyledger/\n', 'keyledger.config.yaml': 'policy: {}\n' },
      { git: true },
    );
    const env: NodeJS.ProcessEnv = {
      ...GIT_TEST_ENV,
      KEYLEDGER_DATA_DIR: join(registry, '.keyledger'),
      KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
      ...(database.options.databaseUrl ? { KEYLEDGER_DATABASE_URL: database.options.databaseUrl } : {}),
    };
    await writeFile(join(registry, 'requests.yaml'), YAML_REQUESTS);
    const fromYaml = await runCli(['-v', 'issue', '--from', 'requests.yaml', '--json'], { cwd: registry, env });
    expect(fromYaml.code, fromYaml.stderr).toBe(0);
    const report = JSON.parse(fromYaml.stdout);
    expect(report).toMatchObject({ total: 2, issued: 2, failed: 0, commits: 1 });
    expect(report.results.map((result: { key: { keyId: string } }) => result.key.keyId)).toEqual([
      'payments-webhooks-001',
      'search-index-001',
    ]);
    const fromStdin = await runCli(['-v', 'issue', '--from', '-', '--actor', 'ci:bulk'], {
      cwd: registry,
      env,
      stdin: Readable.from([CSV_REQUESTS]),
    });
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout).toMatch(/^Issued 2 key\(s\) from <stdin> in 1 registry commit\(s\)/);
    expect(fromStdin.stdout).toContain('row 2  data-loader-001  internal (key ik_');
    expect((await entryFiles(registry)).sort()).toEqual([
      'data-loader-001.yaml',
      'payments-webhooks-001.yaml',
      'platform-deploy-001.yaml',
      'search-index-001.yaml',
    ]);
    expect((await runGit(['status', '--porcelain', '--', 'keys'], { cwd: registry, env })).trim()).toBe('');

    const operational = await openOperationalStore(
      database.options.databaseUrl ? database.options : { dataDir: join(registry, '.keyledger') },
    );
    const store = createSecretStore('embedded', {}, { env, cwd: registry, operationalDb: operational.db });
    const secrets: string[] = [];
    for (const path of [
      'payments/payments-webhooks-001',
      'search/search-index-001',
      'platform/platform-deploy-001',
      'data/data-loader-001',
    ]) {
      secrets.push((await store.get(path))!.value.reveal());
    }
    await operational.close();
    const haystacks = [
      fromYaml.stdout,
      fromYaml.stderr,
      fromStdin.stdout,
      fromStdin.stderr,
      await runGit(['log', '-p', '--all', '--format=%H %s%n%b'], { cwd: registry }),
    ];
    for (const entry of await readdir(join(registry, 'keys'), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) haystacks.push(await readFile(join(entry.parentPath, entry.name), 'utf8'));
    }
    expect(haystacks).toHaveLength(9);
    for (const secret of secrets) {
      for (const form of [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')]) {
        for (const haystack of haystacks) expect(haystack.includes(form)).toBe(false);
      }
    }
  });

  it('refuses a bad file with file:line: field before minting, and flags that do not go with --from', async () => {
    const database = await backend.createDatabase();
    const registry = await makeRegistry(
      { '.gitignore': '.keyledger/\n', 'keyledger.config.yaml': 'policy: {}\n' },
      { git: true },
    );
    const env: NodeJS.ProcessEnv = {
      ...GIT_TEST_ENV,
      KEYLEDGER_DATA_DIR: join(registry, '.keyledger'),
      KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
      ...(database.options.databaseUrl ? { KEYLEDGER_DATABASE_URL: database.options.databaseUrl } : {}),
    };
    await writeFile(
      join(registry, 'bad.yaml'),
      `${YAML_REQUESTS}- provider: internal\n  team: payments\n  owner: eve@example.com\n  purpose: Too broad\n  scope: ["*"]\n`,
    );
    const bad = await runCli(['issue', '--from', 'bad.yaml'], { cwd: registry, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('E_ISSUE_FILE_INVALID');
    expect(bad.stderr).toContain('bad.yaml:18: scope: forbidden-permissions');
    expect(await entryFiles(registry)).toEqual([]);

    const dryRun = await runCli(['issue', '--from', 'bad.yaml', '--dry-run'], { cwd: registry, env });
    expect(dryRun.code).toBe(2);
    await writeFile(join(registry, 'good.yaml'), YAML_REQUESTS);
    const planned = await runCli(['issue', '--from', 'good.yaml', '--dry-run'], { cwd: registry, env });
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain('Dry run: 2 key(s) from good.yaml would be issued; nothing was minted.');
    expect(planned.stdout).toContain('row 2  search-index-001  internal  default:search/search-index-001');
    expect(await entryFiles(registry)).toEqual([]);

    const mixed = await runCli(['issue', '--from', 'good.yaml', '--team', 'x'], { cwd: registry, env });
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('drop --team');
    const missing = await runCli(['issue', '--from', 'nope.yaml'], { cwd: registry, env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--from nope.yaml: cannot read the file: ENOENT');
    const single = await runCli(['issue', '--team', 'x'], { cwd: registry, env });
    expect(single.code).toBe(2);
    expect(single.stderr).toContain("required option '--provider' not specified (or give --from FILE)");
    expect(await readFile(join(registry, 'good.yaml'), 'utf8')).toBe(YAML_REQUESTS);
  });
});
