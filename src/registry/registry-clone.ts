// A replica's first start: with a remote configured (KEYLEDGER_REGISTRY_REMOTE) and no registry where
// KEYLEDGER_REGISTRY points yet, clone it there — a container starts from an empty volume, a new host from nothing.
// The token goes through git's environment as for every other remote operation (registry-remote-settings.ts).
import { mkdir, readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { runGitOutcome } from '../git/git-command.js';
import { describeRemoteFailure, RegistryRemoteError } from './registry-remote.js';
import { type RegistryRemoteSettings, remoteGitEnv } from './registry-remote-settings.js';

/** Clones the remote into `directory` when it is missing or empty; answers whether it cloned. */
export async function cloneRegistryIfMissing(
  directory: string,
  settings: RegistryRemoteSettings,
  env: NodeJS.ProcessEnv = {},
): Promise<boolean> {
  if (!(await isMissingOrEmpty(directory))) return false;
  await mkdir(dirname(directory), { recursive: true });
  const outcome = await runGitOutcome(
    ['clone', '--quiet', '--no-tags', '--branch', settings.branch, '--', settings.url, directory],
    { cwd: dirname(directory), env: { ...env, ...remoteGitEnv(settings, { ...process.env, ...env }) } },
  );
  if (outcome.code === 0) return true;
  // Another process on this host cloned it first: that clone is as good.
  if (!(await isMissingOrEmpty(directory))) return false;
  const hint = /remote branch .* not found/i.test(outcome.stderr)
    ? ` (the remote has no branch ${settings.branch} yet: create the registry with \`keyledger init\` and push it there first)`
    : '';
  throw new RegistryRemoteError('clone', `${describeRemoteFailure(outcome.stderr, settings)}${hint}`);
}

async function isMissingOrEmpty(directory: string): Promise<boolean> {
  try {
    return (await readdir(directory)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}
