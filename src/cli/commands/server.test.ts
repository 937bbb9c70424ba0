// `keyledger token create` and `keyledger server` as a user runs them, on both database engines: the token printed
// once (and in no listing), then the server in its own process answering the API with that token, and SIGTERM
// stopping it cleanly (exit 0).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { GIT_TEST_ENV, makeRegistry } from '../../registry/test-support/registry-fixtures.js';
import { PEOPLE_CSV } from '../../server/test-support/api-harness.js';
import { runCli } from '../test-support/run-cli.js';

const MAIN_MODULE = fileURLToPath(new URL('../main.ts', import.meta.url));
// Node with tsx's loader, not tsx's CLI: the CLI relays a signal to its child and SIGKILLs it when the child does
// not confirm within 30 ms (exit 143), which a loaded machine misses — the signal must reach keyledger itself.
// (by path: the child runs in a registry folder, where a bare 'tsx' would not resolve).
const NODE_WITH_TSX = [
  process.execPath,
  '--import',
  new URL('../../../node_modules/tsx/dist/loader.mjs', import.meta.url).href,
] as const;
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

forEachBackend((backend) => {
  it('creates a token shown once, serves the API with it, and stops on SIGTERM', async () => {
    const database = await backend.createDatabase();
    const registry = await makeRegistry(
      {
        '.gitignore': '.keyledger/\n',
        'keyledger.config.yaml': 'policy:\n  people_directory: people.csv\n',
        'people.csv': PEOPLE_CSV,
      },
      { git: true },
    );
    const env: NodeJS.ProcessEnv = {
      ...GIT_TEST_ENV,
      KEYLEDGER_REGISTRY: registry,
      KEYLEDGER_DATA_DIR: join(registry, '.keyledger'),
      KEYLEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
      ...(database.options.databaseUrl ? { KEYLEDGER_DATABASE_URL: database.options.databaseUrl } : {}),
    };
    try {
      const created = await runCli(
        [
          'token',
          'create',
          '--team',
          'payments',
          '--role',
          'member',
          '--owner',
          'alice@example.com',
          '--scopes',
          'keys:read,events:read',
          '--expires',
          '30d',
          '--json',
        ],
        { cwd: registry, env },
      );
      expect(created.code, created.stderr).toBe(0);
      const shown = JSON.parse(created.stdout);
      expect(shown).toMatchObject({ role: 'member', team: 'payments', scopes: ['keys:read', 'events:read'] });
      expect(shown.token).toMatch(/^kl_live_[0-9A-Za-z]{36}$/);
      const plain = await runCli(
        ['token', 'create', '--team', 'search', '--role', 'security', '--owner', 'bob@example.com'],
        { cwd: registry, env },
      );
      expect(plain.code, plain.stderr).toBe(0);
      expect(plain.stdout.match(/kl_live_[0-9A-Za-z]{36}/g)).toHaveLength(1);
      const refused = await runCli(
        ['token', 'create', '--team', 'x', '--role', 'owner', '--owner', 'a@b.c', '--json'],
        {
          cwd: registry,
          env,
        },
      );
      expect(refused.code).toBe(2);
      expect(JSON.parse(refused.stdout).error.code).toBe('E_USAGE');

      const listed = await runCli(['token', 'list', '--json'], { cwd: registry, env });
      expect(JSON.parse(listed.stdout).tokens.map((grant: { keyId: string }) => grant.keyId)).toContain(shown.keyId);
      expect(listed.stdout).not.toContain(shown.token);
      const registryList = await runCli(['list', '--json', '--tag', 'api-token'], { cwd: registry, env });
      expect(JSON.parse(registryList.stdout).matched).toBe(2);

      const child = spawn(
        NODE_WITH_TSX[0],
        [
          ...NODE_WITH_TSX.slice(1),
          '-e',
          `import(${JSON.stringify(MAIN_MODULE)}).then(async (m) => { process.exitCode = await m.main(process.argv.slice(0)); })`,
          'keyledger',
          'server',
          '--port',
          '0',
          '--json',
        ],
        { cwd: registry, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      children.push(child);
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (chunk) => {
        stdout += chunk;
      });
      child.stderr!.on('data', (chunk) => {
        stderr += chunk;
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await expect.poll(() => stdout.includes('"url"'), { timeout: 60_000 }).toBe(true);
      const { url } = JSON.parse(stdout.split('\n')[0]!);
      const keys = await fetch(`${url}/api/v1/keys`, { headers: { authorization: `Bearer ${shown.token}` } });
      expect(keys.status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited, stderr).toBe(0);
      expect(stderr).toContain('"msg":"keyledger server listening"');
      expect(stderr).not.toContain(shown.token);
    } finally {
      await rm(registry, { recursive: true, force: true });
    }
  }, 120_000);
});
