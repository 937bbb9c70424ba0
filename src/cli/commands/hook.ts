// `keyledger hook install|uninstall`: a plain git pre-commit hook that runs `keyledger scan staged`, for teams
// not using the pre-commit framework (which uses .pre-commit-hooks.yaml instead). It never overwrites a hook it
// did not write unless told to.
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { KeyledgerError, NotFoundError } from '../../errors/keyledger-error.js';
import { type InstalledKeyledger, installedKeyledger, shellQuote } from '../../runtime/installed-keyledger.js';
import type { RegisterCommand } from '../command-table.js';

const run = promisify(execFile);
const MARKER = '# installed by keyledger hook install';

/**
 * The hook runs the keyledger that installed it (absolute node + bin script, so it works where neither keyledger nor
 * node is on PATH, as in GUI git clients), else `keyledger` on PATH, else fails naming both. Never `npx`: where
 * keyledger is not installed, npx asks the npm registry and every commit, even a clean one, failed with a 404.
 */
export function preCommitHookScript(
  extraArguments: string,
  keyledger: InstalledKeyledger = installedKeyledger(),
): string {
  return `#!/bin/sh
${MARKER}
# Blocks commits that add secrets. Skip once with: git commit --no-verify
# Runs the keyledger that installed this hook, else \`keyledger\` on PATH (re-run \`keyledger hook install\` after
# moving keyledger).
KEYLEDGER_NODE=${shellQuote(keyledger.node)}
KEYLEDGER_SCRIPT=${shellQuote(keyledger.script)}
if [ -x "$KEYLEDGER_NODE" ] && [ -f "$KEYLEDGER_SCRIPT" ]; then
  exec "$KEYLEDGER_NODE" "$KEYLEDGER_SCRIPT" scan staged --no-progress${extraArguments}
fi
if command -v keyledger >/dev/null 2>&1; then
  exec keyledger scan staged --no-progress${extraArguments}
fi
echo "keyledger pre-commit hook: keyledger not found: not at $KEYLEDGER_SCRIPT (run by $KEYLEDGER_NODE), not on PATH." >&2
echo "Install it (see keyledger's README, Install) and run \`keyledger hook install --force\` again," >&2
echo "or skip this check once with: git commit --no-verify" >&2
exit 127
`;
}

async function hooksDirectory(repo: string, env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await run('git', ['rev-parse', '--git-path', 'hooks'], { cwd: repo, env });
    const path = stdout.trim();
    return isAbsolute(path) ? path : join(repo, path);
  } catch {
    throw new NotFoundError('E_HOOK_NO_REPO', `${repo} is not a git repository`);
  }
}

export const registerHookCommand: RegisterCommand = (program, context) => {
  const hook = program
    .command('hook')
    .description('install or remove the git pre-commit hook that scans staged changes');

  hook
    .command('install')
    .description('install .git/hooks/pre-commit running `keyledger scan staged`')
    .option('-C, --repo <dir>', 'the git repository', '.')
    .option('--force', 'replace an existing pre-commit hook that keyledger did not write')
    .option(
      '--args <arguments>',
      'extra arguments for `keyledger scan staged`, e.g. "--baseline .keyledger-baseline.json"',
    )
    .option('--json', 'print JSON')
    .action(async (options: { repo: string; force?: boolean; args?: string; json?: boolean }) => {
      const repo = resolve(context.cwd, options.repo);
      const path = join(await hooksDirectory(repo, context.env), 'pre-commit');
      const existing = await readFile(path, 'utf8').catch(() => undefined);
      if (existing !== undefined && !existing.includes(MARKER) && !options.force) {
        throw new KeyledgerError(
          'E_HOOK_EXISTS',
          `${path} exists and was not written by keyledger; use --force to replace it`,
          {
            category: 'conflict',
          },
        );
      }
      if (options.args && /[\n;&|`$]/.test(options.args)) {
        throw new KeyledgerError('E_USAGE', '--args must be plain arguments (no shell syntax)', { category: 'usage' });
      }
      await mkdir(dirname(path), { recursive: true });
      const keyledger = installedKeyledger();
      await writeFile(path, preCommitHookScript(options.args ? ` ${options.args}` : '', keyledger));
      await chmod(path, 0o755);
      if (options.json) {
        const runs = { node: keyledger.node, script: keyledger.script };
        context.stdout.write(`${JSON.stringify({ installed: path, replaced: existing !== undefined, runs })}\n`);
      } else context.stdout.write(`installed the keyledger pre-commit hook at ${path} (runs ${keyledger.script})\n`);
    });

  hook
    .command('uninstall')
    .description('remove the pre-commit hook if keyledger installed it')
    .option('-C, --repo <dir>', 'the git repository', '.')
    .option('--json', 'print JSON')
    .action(async (options: { repo: string; json?: boolean }) => {
      const path = join(await hooksDirectory(resolve(context.cwd, options.repo), context.env), 'pre-commit');
      const existing = await readFile(path, 'utf8').catch(() => undefined);
      const removed = existing?.includes(MARKER) === true;
      if (existing !== undefined && !removed) {
        throw new KeyledgerError('E_HOOK_EXISTS', `${path} was not written by keyledger; leaving it alone`, {
          category: 'conflict',
        });
      }
      if (removed) await rm(path);
      if (options.json) context.stdout.write(`${JSON.stringify({ removed, path })}\n`);
      else context.stdout.write(removed ? `removed ${path}\n` : 'no keyledger pre-commit hook installed\n');
    });
};
