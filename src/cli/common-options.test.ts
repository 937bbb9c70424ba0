// One CLI grammar (docs/cli.md): every command that reads or writes a registry or the operational store takes
// `--registry`, `--json` and `--actor` with the same flags and meaning, `--registry` has no short form, `-v` is the
// program's; the registry is found the same way everywhere, and a wrong one is exit 2, never an empty success.
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, type Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { makeRegistry, SEED_EXAMPLE } from '../registry/test-support/registry-fixtures.js';
import { processContext } from './cli-context.js';
import { commandTable } from './command-table.js';
import { ACTOR_HELP, REGISTRY_HELP } from './common-options.js';
import { runCli } from './test-support/run-cli.js';

/** Commands that touch neither a registry's state nor the operational store, and why. */
const EXEMPT: Record<string, string> = {
  init: 'creates a registry: its DIR is where to create one, not one to find',
  start: 'creates the sandbox organisation and its registry',
  sandbox: 'runs provider sandboxes only',
  'hook install': 'writes a git hook into any repository (-C/--repo, as git -C)',
  'hook uninstall': 'removes that hook',
  'scan rules': "lists the scanner's rules (with a gitleaks config applied): reads no registry and no store",
};

/** Every runnable command (a leaf), by its full name: `list`, `scan dir`, `master-key status`... */
async function leafCommands(): Promise<Map<string, Command>> {
  const program = new Command('keyledger');
  const registered = new Set(await Promise.all(commandTable.map((entry) => entry.load())));
  for (const register of registered) register(program, processContext());
  const leaves = new Map<string, Command>();
  const walk = (command: Command, prefix: string) => {
    for (const child of command.commands) {
      const name = `${prefix}${child.name()}`;
      if (child.commands.length === 0) leaves.set(name, child);
      else walk(child, `${name} `);
    }
  };
  walk(program, '');
  return leaves;
}

function option(command: Command, long: string): Option | undefined {
  return command.options.find((candidate) => candidate.long === long);
}

describe('the shared options', () => {
  it('every registry or store command takes --registry, --json and --actor, the same way', async () => {
    const leaves = await leafCommands();
    expect(leaves.size).toBeGreaterThan(15);
    const checked: string[] = [];
    for (const [name, command] of leaves) {
      if (EXEMPT[name]) continue;
      checked.push(name);
      const registry = option(command, '--registry');
      expect(registry?.flags, name).toBe('--registry <dir>');
      // scan's --registry is opt-in (attribution), so it says so; everywhere else the words are the same.
      if (!name.startsWith('scan ')) expect(registry?.description, name).toBe(REGISTRY_HELP);
      expect(option(command, '--json')?.flags, name).toBe('--json');
      expect(option(command, '--actor')?.flags, name).toBe('--actor <who>');
      expect(option(command, '--actor')?.description, name).toBe(ACTOR_HELP);
      // -r: the deprecated, hidden spelling of --registry — except on scan, where it is gitleaks' --report-path.
      const short = command.options.find((candidate) => candidate.short === '-r');
      if (name.startsWith('scan ')) expect(short?.long, name).toBe('--report-path');
      else expect(short?.hidden && short.long === undefined, name).toBe(true);
      // -v/--verbose belongs to the program; no command may mean something else by it.
      expect(command.options.some((candidate) => candidate.short === '-v' || candidate.long === '--verbose')).toBe(
        false,
      );
    }
    expect(checked).toEqual(
      expect.arrayContaining([
        'validate',
        'list',
        'show',
        'issue',
        'revoke',
        'events',
        'rotate',
        'controller',
        'master-key status',
        'master-key rotate',
        'scan dir',
        'scan git',
        'scan staged',
        'scan stdin',
      ]),
    );
  });

  it('-r still works as --registry, with a deprecation warning', async () => {
    const root = await makeRegistry({ 'keys/a.yaml': SEED_EXAMPLE });
    const run = await runCli(['list', '-r', root, '--json'], { cwd: '/' });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).total).toBe(1);
    expect(run.stderr).toContain('-r is deprecated for --registry');
  });

  it('-v after the command turns on debug logs for any command', async () => {
    const root = await makeRegistry({ 'keys/a.yaml': SEED_EXAMPLE });
    const run = await runCli(['list', '--registry', root, '-v'], { cwd: '/' });
    expect(run.code).toBe(0);
  });
});

describe('finding the registry', () => {
  const env = { KEYLEDGER_REGISTRY: '', KEYLEDGER_DATA_DIR: '' };

  it('validate takes --registry as well as its DIR argument', async () => {
    const root = await makeRegistry({ 'keys/a.yaml': SEED_EXAMPLE });
    const run = await runCli(['validate', '--registry', root, '--json'], { cwd: '/', env });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, filesTotal: 1 });
    const both = await runCli(['validate', root, '--registry', '/elsewhere'], { cwd: '/', env });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('name different registries');
  });

  it('a missing path is exit 2, not "0 errors in 0 files" (validate, list, show)', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'keyledger-nowhere-'));
    const validate = await runCli(['validate', 'nonexist'], { cwd, env });
    expect(validate.code).toBe(2);
    expect(validate.stdout).toBe('');
    expect(validate.stderr).toContain(`E_REGISTRY_NOT_FOUND: no registry at nonexist: ${join(cwd, 'nonexist')}`);
    const list = await runCli(['list', '--registry', '/nonexist'], { cwd, env });
    expect(list.code).toBe(2);
    expect(list.stderr).toContain('E_REGISTRY_NOT_FOUND');
    // An existing folder that is not a registry is no better than a missing one.
    const notRegistry = await runCli(['show', 'k', '--registry', cwd], { cwd: '/', env });
    expect(notRegistry.code).toBe(2);
    expect(notRegistry.stderr).toContain('E_NOT_A_REGISTRY');
    const here = await runCli(['list'], { cwd, env });
    expect(here.code).toBe(2);
    expect(here.stderr).toContain(`E_NO_REGISTRY: ${cwd} is not inside a keyledger registry`);
  });

  it('from $KEYLEDGER_REGISTRY, else from the registry the working directory is in', async () => {
    const root = await makeRegistry({ 'keyledger.config.yaml': '', 'keys/team/a.yaml': SEED_EXAMPLE }, { git: true });
    const fromEnv = await runCli(['list', '--json'], { cwd: '/', env: { ...env, KEYLEDGER_REGISTRY: root } });
    expect(JSON.parse(fromEnv.stdout).total).toBe(1);
    const fromInside = await runCli(['list', '--json'], { cwd: join(root, 'keys', 'team'), env });
    expect(fromInside.code, fromInside.stderr).toBe(0);
    expect(JSON.parse(fromInside.stdout).total).toBe(1);
    // --registry wins over the environment.
    const other = await makeRegistry({
      'keys/a.yaml': SEED_EXAMPLE,
      'keys/b.yaml': SEED_EXAMPLE.replace('-001', '-002'),
    });
    const flag = await runCli(['list', '--registry', other, '--json'], {
      cwd: '/',
      env: { ...env, KEYLEDGER_REGISTRY: root },
    });
    expect(JSON.parse(flag.stdout).total).toBe(2);
    const badEnv = await runCli(['list'], { cwd: '/', env: { ...env, KEYLEDGER_REGISTRY: '/nonexist' } });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('no registry at KEYLEDGER_REGISTRY=/nonexist');
  });

  it('the upward search stops at the top of the git work tree', async () => {
    const outer = await makeRegistry({ 'keyledger.config.yaml': '' });
    const inner = join(outer, 'project');
    await mkdir(join(inner, '.git'), { recursive: true });
    const run = await runCli(['list'], { cwd: inner, env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('E_NO_REGISTRY');
  });
});

describe('--json errors', () => {
  it('are JSON on stdout with code, message, category, done and notDone; the exit code is unchanged', async () => {
    const root = await makeRegistry({ 'keys/a.yaml': SEED_EXAMPLE });
    const missing = await runCli(['show', 'nope', '--json', '--registry', root], { cwd: '/' });
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toEqual({
      error: {
        code: 'E_KEY_NOT_FOUND',
        message: 'no registry entry with key_id "nope"',
        category: 'not-found',
        done: [],
        notDone: [],
      },
    });
    expect(missing.stderr).toContain('E_KEY_NOT_FOUND');
    // A usage error commander finds is JSON too.
    const usage = await runCli(['list', '--status', 'paused', '--json', '--registry', root], { cwd: '/' });
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout).error).toMatchObject({ code: 'E_USAGE', category: 'usage', done: [] });
    expect(JSON.parse(usage.stdout).error.message).toContain("'paused' is invalid");
    // A registry that is not there, on a command that prints a report otherwise.
    const validate = await runCli(['validate', '/nonexist', '--json'], { cwd: '/' });
    expect(validate.code).toBe(2);
    expect(JSON.parse(validate.stdout).error).toMatchObject({ code: 'E_REGISTRY_NOT_FOUND', category: 'not-found' });
    // Without --json, stdout stays empty.
    expect((await runCli(['show', 'nope', '--registry', root], { cwd: '/' })).stdout).toBe('');
  });
});
